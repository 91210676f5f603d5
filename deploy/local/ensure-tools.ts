import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedToolPath, findOnPath, findTool, TOOL_VERSIONS, toolsDir, type ToolName } from '@mesh/testing';
import {
  commandLine,
  formatSeconds,
  isEntryPoint,
  runVisibly,
  timed,
  ToolSetupError,
  versionOutput,
} from './shell.js';

const NATS_MODULE = 'github.com/nats-io/nats-server/v2';
const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
/** The Go these builds were measured with; any Go recent enough for both modules works. */
const GO_VERSION = '1.26.8';
/** Where Go's own archive installs it; often not on PATH in scripts. */
const GO_ARCHIVE_BINARY = '/usr/local/go/bin/go';

/**
 * Makes sure nats-server, redis-server and FerretDB are installed (building or installing what is
 * missing) and returns their paths. Throws ToolSetupError naming the command to run when it cannot.
 */
export function ensureTools(): Record<ToolName, string> {
  mkdirSync(toolsDir(), { recursive: true });
  return {
    'redis-server': ensureRedis(),
    ...ensurePostgres(),
    'nats-server': ensureNats(),
    ferretdb: ensureFerretDb(),
  };
}

/** PostgreSQL's server binaries, FerretDB's store: Debian's `postgresql` package when missing. */
function ensurePostgres(): Record<'postgres' | 'initdb', string> {
  if (!findTool('postgres') || !findTool('initdb')) {
    installDebianTool('postgres', 'postgresql', 'PostgreSQL (the store under FerretDB) is missing.');
  }
  return { postgres: reportFound('postgres', findTool('postgres')!), initdb: findTool('initdb')! };
}

function ensureRedis(): string {
  const found = findTool('redis-server');
  return reportFound(
    'redis-server',
    found ?? installDebianTool('redis-server', 'redis-server', 'redis-server is missing.'),
  );
}

function ensureNats(): string {
  const wanted = TOOL_VERSIONS['nats-server'];
  const found = findTool('nats-server');
  if (found && hasVersion(found, wanted)) return reportFound('nats-server', found);

  const go = findGo();
  if (go) {
    const command = ['install', `${NATS_MODULE}@${wanted}`];
    timed(`building nats-server ${wanted} with go install`, () =>
      runVisibly(go, command, { env: { GOBIN: toolsDir() } }),
    );
    return reportFound('nats-server', requireVersion('nats-server', wanted));
  }

  const fallback =
    found ??
    installDebianTool(
      'nats-server',
      'nats-server',
      `nats-server is missing and Go (to build ${wanted}) is not on PATH.`,
    );
  console.warn(
    `! Go is missing, so tests run on ${versionOutput(fallback) ?? 'an unknown nats-server version'} (${fallback}) ` +
      `instead of ${wanted}: JetStream features of 2.10+ fail. To build ${wanted}, install Go: ${installGoCommand()}`,
  );
  return fallback;
}

function ensureFerretDb(): string {
  const wanted = TOOL_VERSIONS.ferretdb;
  const found = findTool('ferretdb');
  if (found && hasVersion(found, wanted)) return reportFound('ferretdb', found);

  const go = findGo();
  if (!go) {
    throw new ToolSetupError(
      `FerretDB ${wanted} is built from source and Go is not on PATH.`,
      installGoCommand(),
    );
  }
  timed(`building FerretDB ${wanted} with go build`, () => buildFerretDb(go, wanted));
  return reportFound('ferretdb', requireVersion('ferretdb', wanted));
}

/**
 * `go install …/ferretdb@v1.24.2` builds a binary that panics at start: the module lacks the generated
 * build/version/version.txt. So: copy the module source, write that file, and build.
 */
function buildFerretDb(go: string, version: string): void {
  const moduleDir = downloadGoModule(go, `${FERRETDB_MODULE}@${version}`);
  const workDir = mkdtempSync(join(tmpdir(), 'ferretdb-build-'));
  try {
    const sourceDir = join(workDir, 'src');
    cpSync(moduleDir, sourceDir, { recursive: true });
    makeWritable(sourceDir);
    writeFileSync(join(sourceDir, 'build', 'version', 'version.txt'), `${version}\n`);
    const partial = `${cachedToolPath('ferretdb')}.partial`;
    const goFlags = `${process.env.GOFLAGS ?? ''} -mod=mod`.trim();
    runVisibly(go, ['build', '-o', partial, './cmd/ferretdb'], { cwd: sourceDir, env: { GOFLAGS: goFlags } });
    renameSync(partial, cachedToolPath('ferretdb'));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The module's source directory in the Go module cache. */
function downloadGoModule(go: string, moduleAtVersion: string): string {
  const args = ['mod', 'download', '-json', moduleAtVersion];
  try {
    const { Dir } = JSON.parse(execFileSync(go, args, { encoding: 'utf8' })) as { Dir: string };
    return Dir;
  } catch (error) {
    throw new ToolSetupError(`go mod download failed: ${(error as Error).message}`, commandLine(go, args));
  }
}

/** The Go module cache is read-only. */
function makeWritable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    chmodSync(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
  }
}

/**
 * Installs the Debian package that ships `name` (without systemd, as on these machines, nothing starts).
 */
function installDebianTool(name: ToolName, debianPackage: string, problem: string): string {
  if (!findOnPath('apt-get')) {
    throw new ToolSetupError(
      `${problem} apt-get is not available.`,
      `install ${debianPackage} with your package manager`,
    );
  }
  if (process.getuid?.() !== 0) {
    throw new ToolSetupError(problem, `sudo apt-get update && sudo apt-get install -y ${debianPackage}`);
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  timed(`apt-get update && apt-get install -y ${debianPackage}`, () => {
    runVisibly('apt-get', ['update'], { env });
    runVisibly('apt-get', ['install', '-y', debianPackage], { env });
  });
  const installed = findTool(name);
  if (!installed) {
    throw new ToolSetupError(
      `${name} is still not found after installing ${debianPackage}.`,
      `dpkg -L ${debianPackage} | grep bin/`,
    );
  }
  return installed;
}

function findGo(): string | undefined {
  return findOnPath('go') ?? (versionOutput(GO_ARCHIVE_BINARY, 'version') ? GO_ARCHIVE_BINARY : undefined);
}

function installGoCommand(): string {
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  const archive = `https://go.dev/dl/go${GO_VERSION}.linux-${arch}.tar.gz`;
  return `curl -fsSL ${archive} | sudo tar -C /usr/local -xz && export PATH="$PATH:/usr/local/go/bin"`;
}

function hasVersion(binary: string, version: string): boolean {
  return versionOutput(binary)?.includes(version) ?? false;
}

function requireVersion(name: ToolName, version: string): string {
  const built = cachedToolPath(name);
  const printed = versionOutput(built);
  if (!printed?.includes(version)) {
    throw new ToolSetupError(
      `${built} --version printed ${printed === undefined ? 'nothing (it failed)' : `"${printed}"`}, not ${version}.`,
      `rm ${built} && npm run build && node dist/deploy/local/ensure-tools.js`,
    );
  }
  return built;
}

function reportFound(name: ToolName, path: string): string {
  const version = versionOutput(path)?.split('\n')[0] ?? 'version unknown';
  console.log(`✓ ${name}: ${path} (${version})`);
  return path;
}

function main(): void {
  const started = performance.now();
  try {
    ensureTools();
    console.log(`Tools ready in ${formatSeconds(performance.now() - started)}.`);
  } catch (error) {
    if (!(error instanceof ToolSetupError)) throw error;
    console.error(`✗ ${error.message}\nTo fix it, run:\n  ${error.command}\nthen run this command again.`);
    process.exitCode = 1;
  }
}

if (isEntryPoint(import.meta.url)) main();
