import { type K8sObject } from './schema.js';

/** Workloads whose pods run for ever (probes, PDBs) vs. run to completion (Jobs). */
const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const WORKLOADS = new Set([...LONG_RUNNING, 'Job', 'CronJob']);

interface Container {
  name: string;
  image?: string;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
}

interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  hostNetwork?: boolean;
}

export interface PodTemplateOwner {
  readonly object: K8sObject;
  readonly labels: Record<string, string>;
  readonly pod: PodSpec;
}

/** Every workload with its pod template (CronJob: the Job's template). */
export function workloads(objects: readonly K8sObject[]): PodTemplateOwner[] {
  return objects
    .filter((object) => WORKLOADS.has(object.kind))
    .map((object) => {
      const spec = object.spec as Record<string, unknown>;
      const template = (
        object.kind === 'CronJob'
          ? (spec.jobTemplate as Record<string, Record<string, unknown>>).spec?.template
          : spec.template
      ) as { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
      return { object, labels: template.metadata?.labels ?? {}, pod: template.spec };
    });
}

const SECRET_NAME = /(PASSWORD|PASSWD|TOKEN|SECRET|_KEY|CREDENTIALS?)$|^(SMTP|MONGO|REDIS)_URL/;
/** A URL with user:password in it. */
const URL_WITH_CREDENTIALS = /^[a-z+]+:\/\/[^/@\s]*:[^/@\s]*@/i;
/** A URL without credentials (a host name) is configuration, not a secret. */
const PLAIN_URL = /^[a-z+]+:\/\/[^@\s]*$/i;

/** A value marked as a throw-away development value. */
// An all-zero key (e.g. a 64-hex-digit INGEST_SECRET_KEY) is as plainly not a real secret as a marked word.
const DEV_MARK = /dev|local|example|not-secret|changeme|^0+$/i;

/** House policies; each problem names the object and what is wrong. */
export function policyProblems(objects: readonly K8sObject[], { overlay }: { overlay: string }): string[] {
  const problems: string[] = [];
  const name = (object: K8sObject): string => `${object.kind}/${object.metadata.name}`;

  for (const { object, pod, labels } of workloads(objects)) {
    const longRunning = LONG_RUNNING.has(object.kind);
    const podNonRoot = pod.securityContext?.runAsNonRoot === true;
    if (pod.hostNetwork) problems.push(`${name(object)}: hostNetwork`);
    if (pod.automountServiceAccountToken !== false) {
      problems.push(`${name(object)}: automountServiceAccountToken must be false`);
    }
    const account = pod.serviceAccountName ?? 'default';
    if (account === 'default') problems.push(`${name(object)}: needs its own ServiceAccount, not "default"`);
    else if (
      !objects.some(
        (candidate) =>
          candidate.kind === 'ServiceAccount' &&
          candidate.metadata.name === account &&
          candidate.automountServiceAccountToken === false,
      )
    )
      problems.push(
        `${name(object)}: ServiceAccount ${account} missing or without automountServiceAccountToken: false`,
      );
    for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
      const where = `${name(object)} container ${container.name}`;
      const isInit = !pod.containers.includes(container);
      if (longRunning && !isInit && (!container.livenessProbe || !container.readinessProbe)) {
        problems.push(`${where}: needs a liveness and a readiness probe`);
      }
      for (const kind of ['requests', 'limits'] as const) {
        const values = container.resources?.[kind];
        if (!values?.cpu || !values.memory) problems.push(`${where}: needs cpu and memory ${kind}`);
      }
      const security = container.securityContext;
      if (!(podNonRoot || security?.runAsNonRoot === true)) problems.push(`${where}: must run as non-root`);
      if ((security?.runAsUser ?? pod.securityContext?.runAsUser) === 0)
        problems.push(`${where}: runAsUser 0`);
      if (security?.allowPrivilegeEscalation !== false) {
        problems.push(`${where}: allowPrivilegeEscalation must be false`);
      }
      if (security?.privileged) problems.push(`${where}: privileged`);
      if (!security?.capabilities?.drop?.includes('ALL'))
        problems.push(`${where}: must drop ALL capabilities`);
      if (!isPinned(container.image))
        problems.push(`${where}: image "${String(container.image)}" is not pinned`);
      for (const variable of container.env ?? []) {
        if (
          SECRET_NAME.test(variable.name) &&
          variable.value !== undefined &&
          !/^\$\(/.test(variable.value) &&
          !PLAIN_URL.test(variable.value)
        ) {
          problems.push(`${where}: ${variable.name} is a literal value; take it from a Secret`);
        }
      }
    }
    if (longRunning && !hasPdb(objects, labels))
      problems.push(`${name(object)}: no PodDisruptionBudget selects its pods`);
  }

  const namespaces = new Set(
    objects.map((object) => object.metadata.namespace).filter((ns) => ns !== undefined),
  );
  for (const namespace of namespaces) {
    const denyAll = objects.some(
      (object) =>
        object.kind === 'NetworkPolicy' &&
        object.metadata.namespace === namespace &&
        isDefaultDeny(object.spec as NetworkPolicySpec),
    );
    if (!denyAll) problems.push(`namespace ${namespace}: no default-deny NetworkPolicy (ingress and egress)`);
  }

  for (const object of objects.filter((candidate) => candidate.kind === 'Secret')) {
    const data = {
      ...((object.stringData as Record<string, string> | undefined) ?? {}),
      ...Object.fromEntries(
        Object.entries((object.data as Record<string, string> | undefined) ?? {}).map(([key, value]) => [
          key,
          Buffer.from(value, 'base64').toString('utf8'),
        ]),
      ),
    };
    for (const [key, value] of Object.entries(data)) {
      if (PLAIN_URL.test(value)) continue;
      if (overlay === 'prod' || overlay === 'production')
        problems.push(`${name(object)}: holds ${key} in git; production secrets are created outside`);
      else if (!DEV_MARK.test(value))
        problems.push(`${name(object)}: ${key} does not look like a marked dev-only value`);
    }
  }
  for (const object of objects.filter((candidate) => candidate.kind === 'ConfigMap')) {
    for (const [key, value] of Object.entries((object.data as Record<string, string> | undefined) ?? {})) {
      if (URL_WITH_CREDENTIALS.test(value) || (SECRET_NAME.test(key) && !PLAIN_URL.test(value)))
        problems.push(`${name(object)}: ${key} looks like a secret in a ConfigMap`);
    }
  }
  return problems;
}

/** A tag other than latest, or a digest. */
export function isPinned(image: string | undefined): boolean {
  if (!image) return false;
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const lastSegment = image.split('/').pop() ?? '';
  const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
  return tag !== undefined && tag !== '' && tag !== 'latest';
}

function hasPdb(objects: readonly K8sObject[], podLabels: Record<string, string>): boolean {
  return objects.some((object) => {
    if (object.kind !== 'PodDisruptionBudget' || object.metadata.namespace === undefined) return false;
    const selector = (object.spec as { selector?: { matchLabels?: Record<string, string> } }).selector;
    const wanted = Object.entries(selector?.matchLabels ?? {});
    return wanted.length > 0 && wanted.every(([key, value]) => podLabels[key] === value);
  });
}

interface NetworkPolicySpec {
  podSelector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  policyTypes?: string[];
  ingress?: unknown[];
  egress?: unknown[];
}

/** Selects every pod, covers both directions and allows nothing. */
export function isDefaultDeny(spec: NetworkPolicySpec): boolean {
  const selectsAll =
    Object.keys(spec.podSelector?.matchLabels ?? {}).length === 0 &&
    (spec.podSelector?.matchExpressions ?? []).length === 0;
  const types = spec.policyTypes ?? [];
  return (
    selectsAll &&
    types.includes('Ingress') &&
    types.includes('Egress') &&
    (spec.ingress ?? []).length === 0 &&
    (spec.egress ?? []).length === 0
  );
}
