// Redis in the manifests: every service that declares REDIS_URL gets its own Redis, persisted with AOF
// (appendfsync everysec), reachable from that service only; dev keeps it without PVCs.
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '@mesh/testing';
import { workloads } from './k8s/policies.js';
import { type K8sObject } from './k8s/schema.js';
import {
  containerEnv,
  declaredVariables,
  envClass,
  exampleSecrets,
  MESH_SERVICES,
} from './k8s/service-env.js';
import { kustomizeBuild } from './k8s/toolchain.js';

function objectsOf(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

describe.each(['dev', 'prod'])('overlay %s', (overlay) => {
  let objects: K8sObject[] = [];
  beforeAll(() => {
    objects = objectsOf(kustomizeBuild(join(repoRoot(), 'k8s', 'overlays', overlay)));
  }, 300_000);

  it('gives each service that uses Redis its own, with AOF, reachable from that service only', async () => {
    const users: string[] = [];
    for (const service of MESH_SERVICES) {
      if (!declaredVariables(await envClass(service)).has('REDIS_URL')) continue;
      users.push(service);
      const deployment = workloads(objects).find(
        (candidate) => candidate.object.kind === 'Deployment' && candidate.object.metadata.name === service,
      );
      if (!deployment) throw new Error(`no Deployment ${service}`);
      const url = containerEnv(deployment, objects, exampleSecrets()).env.REDIS_URL;
      expect({ service, url }).toEqual({ service, url: `redis://redis-${service}:6379` });

      const name = `redis-${service}`;
      const byName = (kind: string) =>
        objects.find((object) => object.kind === kind && object.metadata.name === name);
      const statefulSet = workloads(objects).find(
        (candidate) => candidate.object.kind === 'StatefulSet' && candidate.object.metadata.name === name,
      );
      if (!statefulSet) throw new Error(`no StatefulSet ${name}`);
      const selector = (byName('Service')?.spec as { selector: Record<string, string> }).selector;
      for (const [key, value] of Object.entries(selector)) expect(statefulSet.labels[key]).toBe(value);
      const args = ((statefulSet.pod.containers[0] as { args?: string[] }).args ?? []).join(' ');
      expect(args).toContain('--appendonly yes');
      expect(args).toContain('--appendfsync everysec');
      // Ingest keeps only expiring guards (message ids, rate windows): the oldest may go when full;
      // the others keep state that must not vanish silently (timers, caps, signals).
      expect(args).toContain(`--maxmemory-policy ${service === 'ingest' ? 'volatile-lru' : 'noeviction'}`);
      const claims = (statefulSet.object.spec as { volumeClaimTemplates?: unknown[] }).volumeClaimTemplates;
      if (overlay === 'dev') expect(claims).toBeUndefined();
      else expect(claims).toHaveLength(1);

      const policy = byName('NetworkPolicy')?.spec as {
        policyTypes: string[];
        ingress: { from: { podSelector: { matchLabels: Record<string, string> } }[] }[];
        egress?: unknown[];
      };
      expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(policy.egress ?? []).toEqual([]);
      expect(policy.ingress.flatMap((rule) => rule.from.map((peer) => peer.podSelector.matchLabels))).toEqual(
        [{ 'app.kubernetes.io/name': service, 'app.kubernetes.io/part-of': 'personalization-mesh' }],
      );
    }
    expect(users.length).toBeGreaterThan(0);
  });
});
