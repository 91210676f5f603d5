import { type PodTemplateOwner, workloads } from './policies.js';
import { type K8sObject } from './schema.js';

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface Port {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

interface EgressRule {
  to?: Peer[];
  ports?: Port[];
}

interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  egress?: EgressRule[];
}

/** Whether a label selector selects these labels (an empty selector selects everything). */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector?.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpression = (selector?.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const value = labels[key];
    switch (operator) {
      case 'In':
        return value !== undefined && values.includes(value);
      case 'NotIn':
        return value === undefined || !values.includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      default:
        throw new Error(`unknown selector operator ${operator}`);
    }
  });
  return byLabel && byExpression;
}

/** Names the workloads (Kind/name) of this namespace whose pods a peer's podSelector selects. */
function describePeer(peer: Peer, objects: readonly K8sObject[], namespace: string | undefined): string {
  if (peer.ipBlock)
    return `ipBlock ${peer.ipBlock.cidr}${peer.ipBlock.except?.length ? ` except ${peer.ipBlock.except.join(',')}` : ''}`;
  if (peer.namespaceSelector) return `namespaces ${JSON.stringify(peer.namespaceSelector)}`;
  const selected = workloads(objects)
    .filter(
      (workload: PodTemplateOwner) =>
        workload.object.metadata.namespace === namespace && selects(peer.podSelector, workload.labels),
    )
    .map((workload) => `${workload.object.kind}/${workload.object.metadata.name}`)
    .sort();
  return `pods of ${selected.length ? selected.join(' + ') : '(nothing)'}`;
}

/**
 * Where a pod may connect to, as the union of the egress rules of every NetworkPolicy that selects it
 * (Kubernetes semantics: a rule without `to` allows any destination, one without `ports` any port).
 * One line per (port, destination): "TCP/27017 → pods of StatefulSet/mongodb", "UDP/53 → anywhere".
 */
export function egressOf(
  objects: readonly K8sObject[],
  podLabels: Record<string, string>,
  namespace: string | undefined,
): string[] {
  const lines = new Set<string>();
  for (const object of objects) {
    if (object.kind !== 'NetworkPolicy' || object.metadata.namespace !== namespace) continue;
    const spec = object.spec as NetworkPolicySpec;
    const types = spec.policyTypes ?? (spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
    if (!types.includes('Egress') || !selects(spec.podSelector, podLabels)) continue;
    for (const rule of spec.egress ?? []) {
      const ports = rule.ports?.length
        ? rule.ports.map(
            (port) =>
              `${port.protocol ?? 'TCP'}/${port.port ?? 'any'}${port.endPort ? `-${port.endPort}` : ''}`,
          )
        : ['any port'];
      const peers = rule.to?.length
        ? rule.to.map((peer) => describePeer(peer, objects, namespace))
        : ['anywhere'];
      for (const port of ports) for (const peer of peers) lines.add(`${port} → ${peer}`);
    }
  }
  return [...lines].sort();
}
