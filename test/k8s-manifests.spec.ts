// Renders every overlay with kustomize (built from the Go module proxy) and validates every object
// offline and strictly against the OpenAPI schema of the targeted Kubernetes version (and KEDA's CRD),
// then checks the house policies, each service's egress and that each service's environment passes its
// own boot validation. Also renders prod with the external-mongodb / external-nats components as a user's
// overlay does (k8s/examples/prod-external) and checks nothing of the in-cluster MongoDB/NATS remains.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '@mesh/testing';
import {
  EXTERNAL_EXAMPLE_DIR,
  type ExternalComponent,
  exampleExternalServices,
  writeExternalOverlay,
} from './k8s/external.js';
import { egressOf } from './k8s/network.js';
import { policyProblems, workloads } from './k8s/policies.js';
import { type K8sObject, SchemaValidator } from './k8s/schema.js';
import {
  containerEnv,
  declaredVariables,
  envClass,
  exampleSecrets,
  MESH_SERVICES,
} from './k8s/service-env.js';
import { kedaScaledObjectCrdFile, kubernetesSwaggerFile, kustomizeBuild } from './k8s/toolchain.js';

const OVERLAYS_DIR = join(repoRoot(), 'k8s', 'overlays');
const overlays = readdirSync(OVERLAYS_DIR);

/** prod with external MongoDB and/or NATS; the last one is the example overlay of k8s/README.md. */
interface ExternalVariant {
  name: string;
  components: ExternalComponent[];
  exampleDir?: string;
}
const EXTERNAL_VARIANTS: ExternalVariant[] = [
  { name: 'prod + external-mongodb', components: ['external-mongodb'] },
  { name: 'prod + external-nats', components: ['external-nats'] },
  {
    name: 'prod + external-mongodb + external-nats (k8s/examples/prod-external)',
    components: ['external-mongodb', 'external-nats'],
    exampleDir: EXTERNAL_EXAMPLE_DIR,
  },
];
/** Everything rendered: the overlays, then prod with the external components (policies of prod). */
const variants: { name: string; overlay: string; components: ExternalComponent[] }[] = [
  ...overlays.map((overlay) => ({ name: overlay, overlay, components: [] })),
  ...EXTERNAL_VARIANTS.map(({ name, components }) => ({ name, overlay: 'prod', components })),
];

/** Variables set in the manifests for features other branches are adding (not declared by a service yet). */
const RESERVED = new Set(['MESH_ENVIRONMENT', 'MESH_PUBLIC_URL', 'MESH_LINK_SECRET', 'MAIL_FROM']);
const RUNTIME = /^(OTEL_|POD_|NODE_)/;

/** SMTP ports delivery may reach anywhere (ESPs publish no stable address ranges); dev adds Mailpit's. */
const SMTP_PORTS = [25, 465, 587, 2525];

/**
 * Where a mesh service may connect to: DNS, the collector, NATS and MongoDB (their pods, or the CIDR of
 * external ones), its own Redis if it has one (StatefulSet redis-<service>), and SMTP for delivery.
 */
function expectedEgress(
  service: string,
  objects: readonly K8sObject[],
  { nats, mongodb, smtpPorts }: { nats: string; mongodb: string; smtpPorts: readonly number[] },
): string[] {
  const ownRedis = `redis-${service}`;
  const hasRedis = objects.some(
    (object) => object.kind === 'StatefulSet' && object.metadata.name === ownRedis,
  );
  return [
    'UDP/53 → anywhere',
    'TCP/53 → anywhere',
    'TCP/4317 → pods of Deployment/otel-collector',
    'TCP/4318 → pods of Deployment/otel-collector',
    `TCP/4222 → ${nats}`,
    `TCP/27017 → ${mongodb}`,
    // A Redis without this line for its service: add NetworkPolicy <service>-egress-redis (see
    // k8s/base/redis/enrichment.yaml) or the service cannot reach it.
    ...(hasRedis ? [`TCP/6379 → pods of StatefulSet/${ownRedis}`] : []),
    ...(service === 'delivery' ? smtpPorts.map((port) => `TCP/${port} → anywhere`) : []),
  ].sort();
}

function objectsOf(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

let validator: SchemaValidator;
const rendered = new Map<string, K8sObject[]>();

beforeAll(() => {
  validator = new SchemaValidator(kubernetesSwaggerFile(), [kedaScaledObjectCrdFile()]);
  for (const overlay of overlays)
    rendered.set(overlay, objectsOf(kustomizeBuild(join(OVERLAYS_DIR, overlay))));
  for (const { name, components, exampleDir } of EXTERNAL_VARIANTS) {
    if (exampleDir) {
      rendered.set(name, objectsOf(kustomizeBuild(exampleDir)));
      continue;
    }
    const overlay = writeExternalOverlay(components);
    try {
      rendered.set(name, objectsOf(kustomizeBuild(overlay.dir)));
    } finally {
      overlay.remove();
    }
  }
}, 300_000);

describe('the schema validator', () => {
  const deployment = (): K8sObject => {
    const objects = rendered.get(overlays[0] ?? '') ?? [];
    const found = objects.find((object) => object.kind === 'Deployment');
    if (!found) throw new Error('no Deployment rendered');
    return structuredClone(found);
  };

  it('refuses wrong types, missing required fields and unknown fields', () => {
    expect(validator.problems(deployment())).toEqual([]);

    const wrongType = deployment();
    (wrongType.spec as Record<string, unknown>).replicas = 'three';
    expect(validator.problems(wrongType).join('\n')).toMatch(/\/spec\/replicas: must be integer/);

    const missing = deployment();
    delete (missing.spec as Record<string, unknown>).selector;
    expect(validator.problems(missing).join('\n')).toMatch(/must have required property 'selector'/);

    const unknown = deployment();
    const template = (unknown.spec as { template: { spec: { containers: Record<string, unknown>[] } } })
      .template;
    (template.spec.containers[0] as Record<string, unknown>).livenesProbe = {};
    expect(validator.problems(unknown).join('\n')).toMatch(/unknown field "livenesProbe"/);

    expect(
      validator.problems({ apiVersion: 'apps/v1beta1', kind: 'Deployment', metadata: { name: 'x' } }),
    ).toEqual(['no schema for apps/v1beta1/Deployment (unknown kind or API version)']);
  });
});

describe('the policy check', () => {
  it('flags a container without probes, limits or non-root, an unpinned image and a missing default deny', () => {
    const objects = structuredClone(rendered.get(overlays[0] ?? '') ?? []).filter(
      (object) => !(object.kind === 'NetworkPolicy' && object.metadata.name === 'default-deny-all'),
    );
    const workload = workloads(objects).find((candidate) => candidate.object.metadata.name === 'identity');
    const container = workload?.pod.containers[0] as Record<string, unknown> | undefined;
    if (!workload || !container) throw new Error('no identity Deployment');
    delete container.readinessProbe;
    delete container.resources;
    delete container.securityContext;
    delete workload.pod.securityContext;
    container.image = 'personalization-mesh:latest';
    const problems = policyProblems(objects, { overlay: 'test' }).join('\n');
    for (const expected of [
      'container app: needs a liveness and a readiness probe',
      'container app: needs cpu and memory limits',
      'container app: must run as non-root',
      'is not pinned',
      'no default-deny NetworkPolicy',
    ])
      expect(problems).toContain(expected);
  });
});

describe('the egress check', () => {
  it('sees a port opened to any destination and a selector that selects nothing', () => {
    const objects = structuredClone(rendered.get('prod') ?? []);
    const policy = objects.find(
      (object) => object.kind === 'NetworkPolicy' && object.metadata.name === 'mesh-services-egress-mongodb',
    );
    const rule = (policy?.spec as { egress: { to?: unknown }[] } | undefined)?.egress[0];
    if (!rule) throw new Error('no NetworkPolicy mesh-services-egress-mongodb');
    delete rule.to;
    const labels = { 'app.kubernetes.io/name': 'renderer', 'app.kubernetes.io/component': 'service' };
    const partOf = { ...labels, 'app.kubernetes.io/part-of': 'personalization-mesh' };
    expect(egressOf(objects, partOf, 'personalization-mesh')).toContain('TCP/27017 → anywhere');
    // Pods that are not the mesh's: infrastructure-allow-all.
    expect(egressOf(objects, labels, 'personalization-mesh')).toEqual(['any port → anywhere']);
    const redisPolicy = objects.find(
      (object) => object.kind === 'NetworkPolicy' && object.metadata.name === 'delivery-egress-redis',
    );
    const redisPeer = (
      redisPolicy?.spec as { egress: { to: { podSelector: { matchLabels: Record<string, string> } }[] }[] }
    ).egress[0]?.to[0];
    if (!redisPeer) throw new Error('no NetworkPolicy delivery-egress-redis');
    redisPeer.podSelector.matchLabels['app.kubernetes.io/name'] = 'redis-nobody';
    const delivery = { ...partOf, 'app.kubernetes.io/name': 'delivery' };
    expect(egressOf(objects, delivery, 'personalization-mesh')).toContain('TCP/6379 → pods of (nothing)');
  });
});

describe.each(variants)('overlay $name', ({ name, overlay, components }) => {
  const objects = (): K8sObject[] => rendered.get(name) ?? [];

  it('renders', () => {
    expect(objects().length).toBeGreaterThan(10);
  });

  it('validates strictly against the Kubernetes OpenAPI schema', () => {
    expect(validator.validateAll(objects())).toEqual([]);
  });

  it('keeps the house policies', () => {
    expect(policyProblems(objects(), { overlay })).toEqual([]);
  });

  it('lets each service reach only DNS, the collector, NATS, MongoDB and its own Redis', () => {
    for (const service of MESH_SERVICES) {
      const workload = workloads(objects()).find(
        (candidate) => candidate.object.kind === 'Deployment' && candidate.object.metadata.name === service,
      );
      if (!workload) throw new Error(`no Deployment ${service}`);
      const egress = egressOf(objects(), workload.labels, workload.object.metadata.namespace);
      const external = exampleExternalServices();
      const expected = expectedEgress(service, objects(), {
        nats: components.includes('external-nats')
          ? `ipBlock ${external.natsCidr}`
          : 'pods of StatefulSet/nats',
        mongodb: components.includes('external-mongodb')
          ? `ipBlock ${external.mongodbCidr}`
          : 'pods of StatefulSet/mongodb',
        smtpPorts: overlay === 'dev' ? [...SMTP_PORTS, 1025] : SMTP_PORTS,
      });
      expect({ service, egress }).toEqual({ service, egress: expected });
    }
  });

  it("gives each service an environment that passes the service's own boot validation", async () => {
    const fallback = exampleSecrets();
    for (const service of MESH_SERVICES) {
      const workload = workloads(objects()).find(
        (candidate) => candidate.object.kind === 'Deployment' && candidate.object.metadata.name === service,
      );
      expect(workload).toBeDefined();
      if (!workload) continue;
      const { env, problems } = containerEnv(workload, objects(), fallback);
      expect(problems).toEqual([]);
      const envClassOf = await envClass(service);
      const { loadEnv } = await import('@mesh/config');
      expect(() => loadEnv(service, envClassOf, env)).not.toThrow();
      const declared = declaredVariables(envClassOf);
      const undeclared = Object.keys(env).filter(
        (name) => !declared.has(name) && !RESERVED.has(name) && !RUNTIME.test(name),
      );
      const declaredByAnyone = new Set<string>();
      for (const other of MESH_SERVICES)
        for (const name of declaredVariables(await envClass(other))) declaredByAnyone.add(name);
      // Shared ConfigMap keys may belong to another service; anything else is a typo.
      expect(undeclared.filter((name) => !declaredByAnyone.has(name))).toEqual([]);
    }
  });
});

describe('the overlays differ where they should', () => {
  const of = (overlay: string): K8sObject[] => rendered.get(overlay) ?? [];
  const services = (overlay: string) =>
    workloads(of(overlay)).filter(
      (workload) =>
        workload.object.kind === 'Deployment' &&
        (MESH_SERVICES as readonly string[]).includes(workload.object.metadata.name),
    );

  it('dev: one replica each, no PVCs, no autoscaler, the local image, no TLS', () => {
    for (const { object } of services('dev')) expect((object.spec as { replicas?: number }).replicas).toBe(1);
    for (const object of of('dev')) {
      expect(object.kind).not.toMatch(/^(ScaledObject|HorizontalPodAutoscaler|PersistentVolumeClaim)$/);
      if (object.kind === 'StatefulSet')
        expect((object.spec as { volumeClaimTemplates?: unknown }).volumeClaimTemplates).toBeUndefined();
    }
    for (const { pod } of services('dev')) expect(pod.containers[0]?.image).toBe('personalization-mesh:dev');
    const ingress = of('dev').find((object) => object.kind === 'Ingress');
    expect((ingress?.spec as { tls?: unknown }).tls).toBeUndefined();
  });

  it('prod: autoscaled from 3, PDBs keep 2, spread over zones, PVCs, TLS, a registry image', () => {
    for (const { object, pod } of services('prod')) {
      const name = object.metadata.name;
      const scaler = of('prod').find(
        (candidate) =>
          candidate.kind === 'ScaledObject' &&
          (candidate.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === name,
      );
      expect((scaler?.spec as { minReplicaCount?: number }).minReplicaCount).toBe(3);
      const pdb = of('prod').find(
        (candidate) => candidate.kind === 'PodDisruptionBudget' && candidate.metadata.name === name,
      );
      expect((pdb?.spec as { minAvailable?: number }).minAvailable).toBe(2);
      const keys = (
        (pod as { topologySpreadConstraints?: { topologyKey: string }[] }).topologySpreadConstraints ?? []
      ).map((constraint) => constraint.topologyKey);
      expect(keys).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
      expect(pod.containers[0]?.image).toMatch(
        /^registry\.example\.com\/personalization-mesh:\d+\.\d+\.\d+$/,
      );
    }
    for (const name of ['nats', 'mongodb']) {
      const statefulSet = workloads(of('prod')).find((workload) => workload.object.metadata.name === name);
      expect(
        (statefulSet?.pod as { topologySpreadConstraints?: { topologyKey: string }[] })
          .topologySpreadConstraints?.[0]?.topologyKey,
      ).toBe('topology.kubernetes.io/zone');
      expect(
        (statefulSet?.object.spec as { volumeClaimTemplates?: unknown[] }).volumeClaimTemplates,
      ).toHaveLength(1);
    }
    const ingress = of('prod').find((object) => object.kind === 'Ingress');
    expect((ingress?.spec as { tls?: { secretName: string }[] }).tls?.[0]?.secretName).toBe('mesh-tls');
  });
});

describe('external MongoDB / NATS (components external-mongodb, external-nats)', () => {
  const of = (name: string): K8sObject[] => rendered.get(name) ?? [];
  /** Objects of the in-cluster MongoDB / NATS, and strings that would mean something still uses them. */
  const IN_CLUSTER: Record<ExternalComponent, { names: RegExp; references: string[] }> = {
    'external-mongodb': {
      names: /^(mongodb|mongodb-init|mongodb-auth|mesh-services-egress-mongodb)$/,
      references: [
        'mongodb-0.mongodb',
        '"mongodb-auth"',
        '"mongodb-init',
        '"app.kubernetes.io/name":"mongodb"',
      ],
    },
    'external-nats': {
      names: /^(nats|nats-headless|nats-config|nats-auth|mesh-services-egress-nats)$/,
      references: [
        'nats://nats:',
        'nats-headless',
        '"nats-config',
        '"nats-auth"',
        '"app.kubernetes.io/name":"nats"',
      ],
    },
  };
  /** The name an object was given in the manifests (generated ConfigMaps and Secrets get a hash suffix). */
  const baseName = (object: K8sObject): string =>
    /^(ConfigMap|Secret)$/.test(object.kind)
      ? object.metadata.name.replace(/-[a-z0-9]{10}$/, '')
      : object.metadata.name;

  it.each(EXTERNAL_VARIANTS)(
    '$name: no in-cluster object or reference of what is external remains',
    ({ name, components }) => {
      const objects = of(name);
      const text = JSON.stringify(objects);
      for (const component of ['external-mongodb', 'external-nats'] as const) {
        const { names, references } = IN_CLUSTER[component];
        const left = objects.filter((object) => names.test(baseName(object)));
        if (components.includes(component)) {
          expect(left.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual([]);
          for (const reference of references)
            expect({ component, reference, found: text.includes(reference) }).toEqual({
              component,
              reference,
              found: false,
            });
        } else {
          // The other one stays in the cluster.
          expect(left.some((object) => object.kind === 'StatefulSet')).toBe(true);
        }
      }
      // The build-time ConfigMap is never applied.
      expect(objects.filter((object) => object.metadata.name.startsWith('mesh-external-services'))).toEqual(
        [],
      );
    },
  );

  it.each(EXTERNAL_VARIANTS.filter(({ components }) => components.includes('external-nats')))(
    '$name: each service connects with NATS_URL and its own user and password from mesh-secrets; KEDA reads the external monitoring',
    ({ name }) => {
      const objects = of(name);
      const external = exampleExternalServices();
      for (const service of MESH_SERVICES) {
        const workload = workloads(objects).find(
          (candidate) => candidate.object.kind === 'Deployment' && candidate.object.metadata.name === service,
        );
        const env = (
          workload?.pod.containers.find((container) => container.name === 'app')?.env ?? []
        ).filter((entry) => entry.name.startsWith('NATS_') || entry.name === 'MONGO_URL');
        const upper = service.toUpperCase();
        expect(env).toEqual(
          expect.arrayContaining([
            { name: 'NATS_URL', valueFrom: { secretKeyRef: { name: 'mesh-secrets', key: 'NATS_URL' } } },
            {
              name: 'NATS_USER',
              valueFrom: { secretKeyRef: { name: 'mesh-secrets', key: `NATS_USER_${upper}` } },
            },
            {
              name: 'NATS_PASSWORD',
              valueFrom: { secretKeyRef: { name: 'mesh-secrets', key: `NATS_PASSWORD_${upper}` } },
            },
            {
              name: 'MONGO_URL',
              valueFrom: { secretKeyRef: { name: 'mesh-secrets', key: `MONGO_URL_${upper}` } },
            },
          ]),
        );
        expect(env).toHaveLength(4);
      }
      const meshConfig = objects.find(
        (object) => object.kind === 'ConfigMap' && baseName(object) === 'mesh-config',
      );
      expect(meshConfig?.data).not.toHaveProperty('NATS_URL');
      const triggers = objects
        .filter((object) => object.kind === 'ScaledObject')
        .flatMap(
          (object) =>
            (object.spec as { triggers: { type: string; metadata: Record<string, string> }[] }).triggers,
        )
        .filter((trigger) => trigger.type === 'nats-jetstream');
      expect(triggers.length).toBeGreaterThan(0);
      for (const { metadata } of triggers) {
        expect(metadata.natsServerMonitoringEndpoint).toBe(external.natsMonitoringEndpoint);
        expect(metadata.account).toBe(external.natsAccount);
      }
    },
  );

  it('also builds with the CPU autoscaler instead of KEDA (nothing to point at the external monitoring)', () => {
    const overlay = writeExternalOverlay(['autoscaling-cpu', 'external-mongodb', 'external-nats'], {
      on: ['base'],
    });
    let objects: K8sObject[];
    try {
      objects = objectsOf(kustomizeBuild(overlay.dir));
    } finally {
      overlay.remove();
    }
    expect(validator.validateAll(objects)).toEqual([]);
    expect(objects.filter((object) => object.kind === 'HorizontalPodAutoscaler')).toHaveLength(
      MESH_SERVICES.length,
    );
    expect(objects.filter((object) => object.kind === 'ScaledObject')).toEqual([]);
    const inCluster = objects.filter(
      (object) => object.kind === 'StatefulSet' && ['nats', 'mongodb'].includes(object.metadata.name),
    );
    expect(inCluster).toEqual([]);
  });

  it('refuses to build without the ConfigMap mesh-external-services, naming it', () => {
    for (const component of ['external-mongodb', 'external-nats'] as const) {
      const overlay = writeExternalOverlay([component], { withConfig: false });
      try {
        expect(() => kustomizeBuild(overlay.dir)).toThrow(/mesh-external-services/);
      } finally {
        overlay.remove();
      }
    }
  });
});
