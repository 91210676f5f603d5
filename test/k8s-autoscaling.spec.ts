// Autoscaling and identities of the six services: KEDA ScaledObjects on consumer lag, generated from
// each service's own handlers (one trigger per durable consumer it creates), the CPU
// HorizontalPodAutoscaler alternative (never both at once), and one ServiceAccount per service.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '@mesh/testing';
import { durableConsumers, type DurableConsumer, scaledObjectYaml } from './k8s/autoscaling.js';
import { policyProblems, workloads } from './k8s/policies.js';
import { type K8sObject, SchemaValidator } from './k8s/schema.js';
import { containerEnv, exampleSecrets, MESH_SERVICES } from './k8s/service-env.js';
import { kedaScaledObjectCrdFile, kubernetesSwaggerFile, kustomizeBuild } from './k8s/toolchain.js';

const K8S = join(repoRoot(), 'k8s');
const KEDA_DIR = join(K8S, 'components', 'autoscaling-keda');
const UPDATE = process.env.UPDATE_K8S_AUTOSCALING === '1';

function objectsOf(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

/** Renders a throw-away kustomization (base + one component), as an overlay would use it. */
function renderWithComponent(component: string): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-kustomize-'));
  try {
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        `  - ${relative(dir, join(K8S, 'base'))}`,
        'components:',
        `  - ${relative(dir, join(K8S, 'components', component))}`,
        '',
      ].join('\n'),
    );
    return objectsOf(kustomizeBuild(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const consumers = new Map<string, DurableConsumer[]>();
let validator: SchemaValidator;

beforeAll(async () => {
  validator = new SchemaValidator(kubernetesSwaggerFile(), [kedaScaledObjectCrdFile()]);
  // The environment each service boots with in the dev overlay (secrets from secret.example.yaml's
  // shapes where the overlay renders none): the module tree is built from it as main.ts builds it.
  const dev = objectsOf(kustomizeBuild(join(K8S, 'overlays', 'dev')));
  for (const service of MESH_SERVICES) {
    const workload = workloads(dev).find(
      (candidate) => candidate.object.kind === 'Deployment' && candidate.object.metadata.name === service,
    );
    if (!workload) throw new Error(`no Deployment ${service} in the dev overlay`);
    const { env } = containerEnv(workload, dev, exampleSecrets());
    consumers.set(service, await durableConsumers(service, env));
  }
}, 300_000);

describe('KEDA ScaledObjects (k8s/components/autoscaling-keda)', () => {
  it('are generated from the durable consumers each service creates', () => {
    // The consumers are found, not listed by hand: a handler on a filter gives `<service>__<filter>`.
    expect(consumers.get('identity')).toContainEqual({
      filter: 'ingest.*',
      stream: 'INGEST',
      consumer: 'identity__ingest_any',
    });
    expect(consumers.get('renderer')?.map(({ consumer }) => consumer)).toContain(
      'renderer__recommendation_attached',
    );
    const stale: string[] = [];
    for (const service of MESH_SERVICES) {
      const file = join(KEDA_DIR, `${service}.yaml`);
      const expected = scaledObjectYaml(service, consumers.get(service) ?? []);
      if (readFileSync(file, 'utf8') === expected) continue;
      if (UPDATE) writeFileSync(file, expected);
      else stale.push(file);
    }
    expect(stale).toEqual([]); // regenerate: see the header of any of these files
  });

  it('give every durable consumer of every service a lag trigger in the prod overlay', () => {
    const prod = objectsOf(kustomizeBuild(join(K8S, 'overlays', 'prod')));
    expect(prod.filter((object) => object.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    for (const service of MESH_SERVICES) {
      const scaledObjects = prod.filter(
        (object) =>
          object.kind === 'ScaledObject' &&
          (object.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === service,
      );
      expect(scaledObjects).toHaveLength(1);
      const spec = scaledObjects[0]?.spec as {
        minReplicaCount: number;
        triggers: { type: string; metadata: Record<string, string> }[];
      };
      expect(spec.minReplicaCount).toBe(3);
      // Validated against KEDA's own CRD schema (also by k8s-manifests.spec.ts): a wrong one fails.
      const broken = structuredClone(scaledObjects[0]) as K8sObject & { spec: Record<string, unknown> };
      broken.spec.maxReplicas = 3;
      broken.spec.minReplicaCount = 'three';
      expect(validator.problems(broken).join('\n')).toMatch(
        /unknown field "maxReplicas"[\s\S]*must be integer|must be integer[\s\S]*unknown field "maxReplicas"/,
      );
      expect(validator.problems(scaledObjects[0])).toEqual([]);
      const triggered = spec.triggers
        .filter((trigger) => trigger.type === 'nats-jetstream')
        .map(({ metadata }) => `${metadata.stream}/${metadata.consumer}`)
        .sort();
      const created = (consumers.get(service) ?? []).map(({ stream, consumer }) => `${stream}/${consumer}`);
      expect({ service, triggered }).toEqual({ service, triggered: created });
      const deployment = prod.find(
        (object) => object.kind === 'Deployment' && object.metadata.name === service,
      );
      // The ScaledObject owns the count: `kubectl apply` must not reset it.
      expect((deployment?.spec as { replicas?: number }).replicas).toBeUndefined();
    }
  }, 120_000);
});

describe('the CPU HorizontalPodAutoscaler alternative (k8s/components/autoscaling-cpu)', () => {
  it('scales every service, validates and keeps the policies, without any ScaledObject', () => {
    const objects = renderWithComponent('autoscaling-cpu');
    expect(validator.validateAll(objects)).toEqual([]);
    expect(policyProblems(objects, { overlay: 'cpu-autoscaling' })).toEqual([]);
    expect(objects.filter((object) => object.kind === 'ScaledObject')).toEqual([]);
    const targets = objects
      .filter((object) => object.kind === 'HorizontalPodAutoscaler')
      .map((object) => (object.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name)
      .sort();
    expect(targets).toEqual([...MESH_SERVICES].sort());
    for (const service of MESH_SERVICES) {
      const deployment = objects.find(
        (object) => object.kind === 'Deployment' && object.metadata.name === service,
      );
      expect((deployment?.spec as { replicas?: number }).replicas).toBeUndefined();
    }
  }, 120_000);

  it('is not active in dev, which runs one replica of each service', () => {
    const dev = objectsOf(kustomizeBuild(join(K8S, 'overlays', 'dev')));
    expect(dev.filter((object) => ['HorizontalPodAutoscaler', 'ScaledObject'].includes(object.kind))).toEqual(
      [],
    );
  });
});

describe('service identities', () => {
  it('gives each service its own ServiceAccount without a mounted token', () => {
    const objects = objectsOf(kustomizeBuild(join(K8S, 'overlays', 'prod')));
    for (const service of MESH_SERVICES) {
      const workload = workloads(objects).find(
        (candidate) => candidate.object.kind === 'Deployment' && candidate.object.metadata.name === service,
      );
      expect((workload?.pod as { serviceAccountName?: string }).serviceAccountName).toBe(service);
      const account = objects.find(
        (object) => object.kind === 'ServiceAccount' && object.metadata.name === service,
      );
      expect(account?.automountServiceAccountToken).toBe(false);
    }
  });
});
