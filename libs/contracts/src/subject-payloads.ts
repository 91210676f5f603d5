import { type ClassConstructor, plainToInstance } from 'class-transformer';
import { type ValidationError, validateSync } from 'class-validator';
import {
  DeliveryBouncedPayload,
  DeliveryClickedPayload,
  DeliveryComplainedPayload,
  DeliveryConvertedPayload,
  DeliveryDeferredPayload,
  DeliveryFailedPayload,
  DeliveryOpenedPayload,
  DeliverySentPayload,
  DeliverySkippedPayload,
  DeliveryUnsubscribedPayload,
} from './delivery/delivery-events.dto.js';
import { DeadLetterPayload } from './dlq/dead-letter.dto.js';
import {
  ProfileUpdatedPayload,
  SegmentChangedPayload,
  SendIntentPayload,
} from './enrichment/enrichment-events.dto.js';
import { type Envelope, EnvelopeDto } from './envelope.js';
import {
  DuplicateCandidatePayload,
  ProfilesMergedPayload,
  ProfileSplitPayload,
  ResolvedAliasPayload,
  ResolvedConsentPayload,
  ResolvedGroupPayload,
  ResolvedIdentifyPayload,
  ResolvedPagePayload,
  ResolvedProfilePayload,
  ResolvedScreenPayload,
  ResolvedTrackPayload,
} from './identity/identity-events.dto.js';
import {
  AliasPayload,
  ConsentPayload,
  GroupPayload,
  IdentifyPayload,
  PagePayload,
  ProfilePayload,
  ScreenPayload,
  TrackPayload,
} from './ingest/ingested-event.dto.js';
import { EraseDonePayload, EraseRequestedPayload } from './privacy/privacy-events.dto.js';
import { RecommendedSendPayload } from './recommendation/recommendation-events.dto.js';
import { RenderedEmailPayload, RenderFailedPayload } from './renderer/renderer-events.dto.js';
import { SERVICES, type ServiceName, type Subject, subjectMatches } from './subjects.js';

interface FixedSubjectPayloads {
  'ingest.track': TrackPayload;
  'ingest.identify': IdentifyPayload;
  'ingest.page': PagePayload;
  'ingest.screen': ScreenPayload;
  'ingest.alias': AliasPayload;
  'ingest.group': GroupPayload;
  'ingest.profile': ProfilePayload;
  'ingest.consent': ConsentPayload;
  'identity.resolved.track': ResolvedTrackPayload;
  'identity.resolved.identify': ResolvedIdentifyPayload;
  'identity.resolved.page': ResolvedPagePayload;
  'identity.resolved.screen': ResolvedScreenPayload;
  'identity.resolved.alias': ResolvedAliasPayload;
  'identity.resolved.group': ResolvedGroupPayload;
  'identity.resolved.profile': ResolvedProfilePayload;
  'identity.resolved.consent': ResolvedConsentPayload;
  'identity.merged': ProfilesMergedPayload;
  'identity.split': ProfileSplitPayload;
  'identity.candidate': DuplicateCandidatePayload;
  'enrichment.profile.updated': ProfileUpdatedPayload;
  'enrichment.segment.changed': SegmentChangedPayload;
  'enrichment.triggered': SendIntentPayload;
  'recommendation.attached': RecommendedSendPayload;
  'renderer.rendered': RenderedEmailPayload;
  'renderer.failed': RenderFailedPayload;
  'delivery.sent': DeliverySentPayload;
  'delivery.skipped': DeliverySkippedPayload;
  'delivery.deferred': DeliveryDeferredPayload;
  'delivery.failed': DeliveryFailedPayload;
  'delivery.bounced': DeliveryBouncedPayload;
  'delivery.complained': DeliveryComplainedPayload;
  'delivery.opened': DeliveryOpenedPayload;
  'delivery.clicked': DeliveryClickedPayload;
  'delivery.unsubscribed': DeliveryUnsubscribedPayload;
  'delivery.converted': DeliveryConvertedPayload;
  'privacy.erase.requested': EraseRequestedPayload;
}

/** The payload class of every subject: what its envelope's `data` must be. */
export type SubjectPayloads = FixedSubjectPayloads & {
  [S in `privacy.erase.done.${ServiceName}`]: EraseDonePayload;
} & { [S in `dlq.${ServiceName}`]: DeadLetterPayload };

// Compile-time proof that the map covers every subject and nothing else.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _everySubjectHasAPayload: Exact<keyof SubjectPayloads, Subject> = true;
void _everySubjectHasAPayload;

export type PayloadOf<S extends Subject> = SubjectPayloads[S];

const perService = <C>(prefix: string, cls: C) =>
  Object.fromEntries(SERVICES.map((service) => [`${prefix}.${service}`, cls])) as Record<string, C>;

/** The same map at run time, for validation on consume. */
export const PAYLOAD_CLASSES: { readonly [S in Subject]: ClassConstructor<SubjectPayloads[S]> } = {
  'ingest.track': TrackPayload,
  'ingest.identify': IdentifyPayload,
  'ingest.page': PagePayload,
  'ingest.screen': ScreenPayload,
  'ingest.alias': AliasPayload,
  'ingest.group': GroupPayload,
  'ingest.profile': ProfilePayload,
  'ingest.consent': ConsentPayload,
  'identity.resolved.track': ResolvedTrackPayload,
  'identity.resolved.identify': ResolvedIdentifyPayload,
  'identity.resolved.page': ResolvedPagePayload,
  'identity.resolved.screen': ResolvedScreenPayload,
  'identity.resolved.alias': ResolvedAliasPayload,
  'identity.resolved.group': ResolvedGroupPayload,
  'identity.resolved.profile': ResolvedProfilePayload,
  'identity.resolved.consent': ResolvedConsentPayload,
  'identity.merged': ProfilesMergedPayload,
  'identity.split': ProfileSplitPayload,
  'identity.candidate': DuplicateCandidatePayload,
  'enrichment.profile.updated': ProfileUpdatedPayload,
  'enrichment.segment.changed': SegmentChangedPayload,
  'enrichment.triggered': SendIntentPayload,
  'recommendation.attached': RecommendedSendPayload,
  'renderer.rendered': RenderedEmailPayload,
  'renderer.failed': RenderFailedPayload,
  'delivery.sent': DeliverySentPayload,
  'delivery.skipped': DeliverySkippedPayload,
  'delivery.deferred': DeliveryDeferredPayload,
  'delivery.failed': DeliveryFailedPayload,
  'delivery.bounced': DeliveryBouncedPayload,
  'delivery.complained': DeliveryComplainedPayload,
  'delivery.opened': DeliveryOpenedPayload,
  'delivery.clicked': DeliveryClickedPayload,
  'delivery.unsubscribed': DeliveryUnsubscribedPayload,
  'delivery.converted': DeliveryConvertedPayload,
  'privacy.erase.requested': EraseRequestedPayload,
  ...perService('privacy.erase.done', EraseDonePayload),
  ...perService('dlq', DeadLetterPayload),
} as { readonly [S in Subject]: ClassConstructor<SubjectPayloads[S]> };

export function isKnownSubject(subject: string): subject is Subject {
  return Object.hasOwn(PAYLOAD_CLASSES, subject);
}

/** Subjects a NATS filter (with `*`/`>`) covers. */
export function subjectsMatching(filter: string): Subject[] {
  return (Object.keys(PAYLOAD_CLASSES) as Subject[]).filter((subject) => subjectMatches(filter, subject));
}

/** One thing wrong with a message, named by its path (e.g. `data.properties`). */
export interface ContractViolation {
  readonly path: string;
  readonly problems: string[];
}

function flatten(errors: readonly ValidationError[], prefix: string): ContractViolation[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = error.constraints ? [{ path, problems: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

export class ContractViolationError extends Error {
  constructor(
    readonly subject: string,
    readonly violations: readonly ContractViolation[],
  ) {
    super(
      `message on ${subject} breaks its contract: ` +
        violations.map((v) => `${v.path}: ${v.problems.join('; ')}`).join(' | '),
    );
    this.name = 'ContractViolationError';
  }
}

/**
 * Checks an envelope received on `subject` against the envelope rules and the subject's payload class.
 * Unknown fields are tolerated on consume (an older consumer must not reject a newer producer);
 * edges that face the outside reject them.
 */
export function parseEnvelope<S extends Subject>(subject: S, raw: unknown): Envelope<SubjectPayloads[S]> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ContractViolationError(subject, [{ path: '', problems: ['the message is not a JSON object'] }]);
  }
  const { data: rawData, ...fields } = raw as Record<string, unknown>;
  // The envelope's own fields, without copying its data: that is checked against the subject's class.
  const envelope = plainToInstance(EnvelopeDto, { ...fields, data: {} });
  const violations = flatten(
    validateSync(envelope).filter((error) => error.property !== 'data'),
    '',
  );
  let data: object = {};
  if (typeof rawData !== 'object' || rawData === null || Array.isArray(rawData)) {
    violations.push({ path: 'data', problems: ['data must be an object'] });
  } else {
    data = plainToInstance(PAYLOAD_CLASSES[subject] as ClassConstructor<object>, rawData);
    violations.push(...flatten(validateSync(data), 'data'));
  }
  if (violations.length > 0) throw new ContractViolationError(subject, violations);
  return { ...(raw as Envelope<SubjectPayloads[S]>), data: data as SubjectPayloads[S] };
}
