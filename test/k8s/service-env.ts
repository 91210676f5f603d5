import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClassConstructor } from 'class-transformer';
import { getMetadataStorage } from 'class-validator';
import { parse } from 'yaml';
import { loadEnv } from '@mesh/config';
import { repoRoot } from '@mesh/testing';
import { type PodTemplateOwner } from './policies.js';
import { type K8sObject } from './schema.js';

export const MESH_SERVICES = [
  'ingest',
  'identity',
  'enrichment',
  'recommendation',
  'renderer',
  'delivery',
] as const;
export type MeshService = (typeof MESH_SERVICES)[number];

/** Each service's EnvDto class (apps/<service>/src/config.ts), loaded as the service loads it. */
export async function envClass(service: MeshService): Promise<ClassConstructor<object>> {
  const module = (await import(join(repoRoot(), 'apps', service, 'src', 'config.ts'))) as Record<
    string,
    unknown
  >;
  const found = Object.entries(module).find(([name]) => name.endsWith('Env'));
  if (!found) throw new Error(`apps/${service}/src/config.ts exports no *Env class`);
  return found[1] as ClassConstructor<object>;
}

/** The variables an EnvDto class declares (ServiceEnv's included). */
export function declaredVariables(envClass: ClassConstructor<object>): Set<string> {
  return new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(envClass, '', true, false)
      .map((metadata) => metadata.propertyName),
  );
}

/** The documented shape of Secret mesh-secrets and nats-auth (example values), for overlays that create none. */
export function exampleSecrets(): K8sObject[] {
  const file = join(repoRoot(), 'k8s', 'base', 'secret.example.yaml');
  return readFileSync(file, 'utf8')
    .split(/^---$/m)
    .map((document) => parse(document) as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

interface EnvEntry {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: unknown;
  };
}

interface EnvFromEntry {
  configMapRef?: { name: string };
  secretRef?: { name: string };
}

function lookUp(
  objects: readonly K8sObject[],
  kind: string,
  name: string,
): Record<string, string> | undefined {
  const object = objects.find((candidate) => candidate.kind === kind && candidate.metadata.name === name);
  if (!object) return undefined;
  const data = (object.data as Record<string, string> | undefined) ?? {};
  const decoded =
    kind === 'Secret'
      ? Object.fromEntries(
          Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]),
        )
      : data;
  return { ...decoded, ...((object.stringData as Record<string, string> | undefined) ?? {}) };
}

/**
 * The environment the "app" container of a workload gets, as the kubelet builds it: envFrom first, then
 * env. Secrets the overlay does not render come from `fallbackSecrets` (secret.example.yaml). Returns
 * the variables and the problems (a reference to a missing ConfigMap/Secret key that is not optional).
 */
export function containerEnv(
  workload: PodTemplateOwner,
  objects: readonly K8sObject[],
  fallbackSecrets: readonly K8sObject[],
): { env: Record<string, string>; problems: string[] } {
  const container = workload.pod.containers.find((candidate) => candidate.name === 'app') as
    { env?: EnvEntry[]; envFrom?: EnvFromEntry[] } | undefined;
  const problems: string[] = [];
  const env: Record<string, string> = {};
  const source = (kind: 'Secret' | 'ConfigMap', name: string) =>
    lookUp(objects, kind, name) ?? (kind === 'Secret' ? lookUp(fallbackSecrets, kind, name) : undefined);
  for (const from of container?.envFrom ?? []) {
    const [kind, name] = from.configMapRef
      ? (['ConfigMap', from.configMapRef.name] as const)
      : (['Secret', from.secretRef?.name ?? ''] as const);
    const data = source(kind, name);
    if (!data) problems.push(`envFrom ${kind} ${name} does not exist`);
    Object.assign(env, data ?? {});
  }
  for (const entry of container?.env ?? []) {
    if (entry.value !== undefined) env[entry.name] = entry.value;
    const ref = entry.valueFrom?.secretKeyRef ?? entry.valueFrom?.configMapKeyRef;
    if (ref) {
      const value = source(entry.valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap', ref.name)?.[ref.key];
      if (value !== undefined) env[entry.name] = value;
      else if (!ref.optional) problems.push(`${entry.name}: ${ref.name} has no key ${ref.key}`);
    }
    if (entry.valueFrom?.fieldRef) env[entry.name] = 'from-the-pod';
  }
  return { env, problems };
}

/** Validates the environment as the service does at boot; the error lists every problem. */
export function bootCheck(
  service: MeshService,
  envClassOf: ClassConstructor<object>,
  env: Record<string, string>,
): void {
  loadEnv(service, envClassOf, env);
}
