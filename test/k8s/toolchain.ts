import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath, toolsDir } from '@mesh/testing';

/**
 * The offline toolchain of the manifest tests, all from the Go module proxy (the only source of these
 * that the machines reach) and cached: kustomize built with `go install`, the Kubernetes OpenAPI
 * schema from the k8s.io/kubernetes module (api/openapi-spec), KEDA's CRDs from its module.
 */
export const KUSTOMIZE_VERSION = 'v5.8.1'; // v5.8.2+ needs Go 1.27
/** The Kubernetes version the manifests target and are validated against. */
export const KUBERNETES_VERSION = 'v1.34.4';
export const KEDA_VERSION = 'v2.21.0';

const GO_ARCHIVE_BINARY = '/usr/local/go/bin/go';

function go(): string {
  const found = findOnPath('go') ?? (existsSync(GO_ARCHIVE_BINARY) ? GO_ARCHIVE_BINARY : undefined);
  if (!found) {
    throw new Error(
      'Go is needed to build kustomize and fetch the Kubernetes schema (go install / go mod download); ' +
        'install it as deploy/local/ensure-tools.ts says.',
    );
  }
  return found;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(command, args, {
    encoding: 'utf8',
    cwd: tmpdir(), // outside any go.mod
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** kustomize KUSTOMIZE_VERSION from the tools cache, built with `go install` the first time (~20 s). */
export function ensureKustomize(): string {
  const binary = join(toolsDir(), 'kustomize');
  const version = (): string | undefined => {
    try {
      return run(binary, ['version']).trim();
    } catch {
      return undefined;
    }
  };
  if (version() === KUSTOMIZE_VERSION) return binary;
  mkdirSync(toolsDir(), { recursive: true });
  const staging = join(toolsDir(), `.kustomize-${process.pid}`);
  mkdirSync(staging, { recursive: true });
  run(go(), ['install', `sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}`], { GOBIN: staging });
  renameSync(join(staging, 'kustomize'), binary);
  if (version() !== KUSTOMIZE_VERSION) throw new Error(`${binary} is not kustomize ${KUSTOMIZE_VERSION}`);
  return binary;
}

/** The directory of a Go module in the module cache (downloaded once, then served from the cache). */
export function goModuleDir(module: string, version: string): string {
  const { Dir, Error: problem } = JSON.parse(
    run(go(), ['mod', 'download', '-json', `${module}@${version}`]),
  ) as {
    Dir?: string;
    Error?: string;
  };
  if (!Dir) throw new Error(`go mod download ${module}@${version}: ${problem ?? 'no directory'}`);
  return Dir;
}

/** The Kubernetes API's OpenAPI v2 document (one file, every built-in kind) for KUBERNETES_VERSION. */
export function kubernetesSwaggerFile(): string {
  return join(goModuleDir('k8s.io/kubernetes', KUBERNETES_VERSION), 'api', 'openapi-spec', 'swagger.json');
}

/** KEDA's CustomResourceDefinition of ScaledObject (its schema validates our ScaledObjects). */
export function kedaScaledObjectCrdFile(): string {
  return join(
    goModuleDir('github.com/kedacore/keda/v2', KEDA_VERSION),
    'config',
    'crd',
    'bases',
    'keda.sh_scaledobjects.yaml',
  );
}

/** `kustomize build <dir>`: the YAML an overlay applies. */
export function kustomizeBuild(dir: string): string {
  return run(ensureKustomize(), ['build', dir]);
}
