/** The six services of the mesh; each publishes only under its own subject prefix. */
export const SERVICES = [
  'ingest',
  'identity',
  'enrichment',
  'recommendation',
  'renderer',
  'delivery',
] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Kinds of customer event that enter through ingest and leave identity resolved. */
export const EVENT_TYPES = [
  'track',
  'identify',
  'page',
  'screen',
  'alias',
  'group',
  'profile',
  'consent',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const DELIVERY_OUTCOMES = [
  'sent',
  'skipped',
  'deferred',
  'failed',
  'bounced',
  'complained',
  'opened',
  'clicked',
  'unsubscribed',
  'converted',
] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

export type IngestSubject = `ingest.${EventType}`;
export type IdentitySubject =
  `identity.resolved.${EventType}` | 'identity.merged' | 'identity.split' | 'identity.candidate';
export type EnrichmentSubject =
  'enrichment.profile.updated' | 'enrichment.segment.changed' | 'enrichment.triggered';
export type RecommendationSubject = 'recommendation.attached';
export type RendererSubject = 'renderer.rendered' | 'renderer.failed';
export type DeliverySubject = `delivery.${DeliveryOutcome}`;
export type PrivacySubject = 'privacy.erase.requested' | `privacy.erase.done.${ServiceName}`;
export type DeadLetterSubject = `dlq.${ServiceName}`;

export type Subject =
  | IngestSubject
  | IdentitySubject
  | EnrichmentSubject
  | RecommendationSubject
  | RendererSubject
  | DeliverySubject
  | PrivacySubject
  | DeadLetterSubject;

const each = <P extends string, T extends readonly string[]>(prefix: P, names: T) =>
  Object.fromEntries(names.map((name) => [name, `${prefix}.${name}`])) as {
    [K in T[number]]: `${P}.${K}`;
  };

/** Every subject of ARCHITECTURE.md as a constant, so code never spells one by hand. */
export const SUBJECTS = {
  ingest: each('ingest', EVENT_TYPES),
  identity: {
    resolved: each('identity.resolved', EVENT_TYPES),
    merged: 'identity.merged',
    split: 'identity.split',
    candidate: 'identity.candidate',
  },
  enrichment: {
    profileUpdated: 'enrichment.profile.updated',
    segmentChanged: 'enrichment.segment.changed',
    triggered: 'enrichment.triggered',
  },
  recommendation: { attached: 'recommendation.attached' },
  renderer: { rendered: 'renderer.rendered', failed: 'renderer.failed' },
  delivery: each('delivery', DELIVERY_OUTCOMES),
  privacy: {
    eraseRequested: 'privacy.erase.requested',
    eraseDone: (service: ServiceName): `privacy.erase.done.${ServiceName}` => `privacy.erase.done.${service}`,
  },
  dlq: (service: ServiceName): DeadLetterSubject => `dlq.${service}`,
} as const;

/** Every concrete subject, for tables and for tests that walk all of them. */
export const ALL_SUBJECTS: readonly Subject[] = [
  ...EVENT_TYPES.map((type) => SUBJECTS.ingest[type]),
  ...EVENT_TYPES.map((type) => SUBJECTS.identity.resolved[type]),
  SUBJECTS.identity.merged,
  SUBJECTS.identity.split,
  SUBJECTS.identity.candidate,
  SUBJECTS.enrichment.profileUpdated,
  SUBJECTS.enrichment.segmentChanged,
  SUBJECTS.enrichment.triggered,
  SUBJECTS.recommendation.attached,
  SUBJECTS.renderer.rendered,
  SUBJECTS.renderer.failed,
  ...DELIVERY_OUTCOMES.map((outcome) => SUBJECTS.delivery[outcome]),
  SUBJECTS.privacy.eraseRequested,
  ...SERVICES.map((service) => SUBJECTS.privacy.eraseDone(service)),
  ...SERVICES.map((service) => SUBJECTS.dlq(service)),
];

/** True when a concrete subject matches a NATS filter (`*` one token, `>` the rest). */
export function subjectMatches(filter: string, subject: string): boolean {
  const want = filter.split('.');
  const got = subject.split('.');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '>') return got.length > i;
    if (i >= got.length) return false;
    if (want[i] !== '*' && want[i] !== got[i]) return false;
  }
  return want.length === got.length;
}
