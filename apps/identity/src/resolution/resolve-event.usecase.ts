import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  deriveEnvelope,
  deterministicId,
  type Envelope,
  type EventType,
  type IdentifierDto,
  type IdentifierType,
  type IngestedEventBase,
  type PayloadOf,
  type ProfilesMergedPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { MessagePublisher, PermanentError } from '@mesh/messaging';
import { type ExtractionOptions, extractIdentifiers, identifierKey, normalizeId } from './identifiers.js';
import {
  IdentityGraphRepository,
  type MergeCause,
  type MergeDocument,
  type ProfileDocument,
} from './identity-graph.repository.js';

export const EXTRACTION_OPTIONS = Symbol('EXTRACTION_OPTIONS');
export const IDENTITY_RULES = Symbol('IDENTITY_RULES');

/** Per identifier type: the most a live profile may hold (absent: no limit). */
export type IdentifierLimits = Partial<Record<IdentifierType, number>>;

export interface IdentityRules {
  limits: IdentifierLimits;
}

export const DEFAULT_LIMITS: IdentifierLimits = { user_id: 1, crm_id: 1, email: 5, phone: 5 };

const MAX_ATTEMPTS = 60;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type IngestedEnvelope = Envelope<
  IngestedEventBase & { traits?: Record<string, unknown>; previousId?: string }
>;

const typeOfKey = (key: string) => key.slice(0, key.indexOf(':')) as IdentifierType;
const unique = <T>(values: Iterable<T>) => [...new Set(values)];

/**
 * Finds the one live profile an ingested event belongs to — creating it, joining it, or merging the
 * profiles the event connects — and republishes the event on `identity.resolved.<type>` with it.
 *
 * Several consumers may handle one person's events at once (the handler's order key is one
 * identifier), and FerretDB has no transactions, so every change runs under claims on the profiles
 * it touches, re-reads what it decided on once it holds them, and starts over when the graph moved.
 * Every step is idempotent and a merge is resumable: its audit entry is written first, and a later
 * event or a redelivery that meets a pending merge completes it.
 */
@Injectable()
export class ResolveEventUseCase {
  private readonly logger = new Logger(ResolveEventUseCase.name);

  constructor(
    private readonly graph: IdentityGraphRepository,
    private readonly publisher: MessagePublisher,
    @Inject(EXTRACTION_OPTIONS) private readonly extraction: ExtractionOptions,
    @Inject(IDENTITY_RULES) private readonly rules: IdentityRules,
  ) {}

  async execute(type: EventType, envelope: IngestedEnvelope): Promise<void> {
    const { identifiers, dropped } = extractIdentifiers(envelope.data, this.extraction);
    for (const drop of dropped) {
      this.logger.warn(`event ${envelope.id}: ${drop.source} dropped as ${drop.type} (${drop.reason})`);
    }
    if (type === 'alias') identifiers.push(...(await this.previousIdentifier(envelope, identifiers)));
    if (identifiers.length === 0) {
      throw new PermanentError('the event carries no usable identifier', 'NO_IDENTIFIER');
    }

    let profileId: string | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && !profileId; attempt++) {
      // Spread out consumers that keep meeting each other.
      if (attempt > 0) await sleep(Math.random() * Math.min(200, 10 * attempt));
      profileId = await this.attempt(
        envelope,
        identifiers,
        type === 'alias' ? 'alias' : 'shared_identifiers',
      );
    }
    if (!profileId) throw new Error(`event ${envelope.id}: the graph kept changing, giving up for now`);

    const subject = SUBJECTS.identity.resolved[type];
    const resolved = deriveEnvelope(envelope, {
      stage: subject,
      type,
      profileId,
      data: { ...envelope.data, identifiers } as PayloadOf<typeof subject>,
    });
    await this.publisher.publish(subject, resolved);
  }

  /**
   * Segment's `previousId` is the anonymous id, or an earlier user id, the person had: a known user
   * id when there is one, the anonymous id otherwise.
   */
  private async previousIdentifier(
    envelope: IngestedEnvelope,
    found: IdentifierDto[],
  ): Promise<IdentifierDto[]> {
    const normalized = normalizeId(envelope.data.previousId);
    if (!('value' in normalized)) return [];
    const asUser: IdentifierDto = { type: 'user_id', value: normalized.value };
    const asAnonymous: IdentifierDto = { type: 'anonymous_id', value: normalized.value };
    const known = await this.graph.owners([identifierKey(asUser)]);
    const previous = known.size > 0 ? asUser : asAnonymous;
    return found.some((identifier) => identifierKey(identifier) === identifierKey(previous))
      ? []
      : [previous];
  }

  /** One try at resolving the event; undefined when the graph changed under it (try again). */
  private async attempt(
    envelope: IngestedEnvelope,
    identifiers: IdentifierDto[],
    reason: string,
  ): Promise<string | undefined> {
    const keys = identifiers.map(identifierKey);
    const rawIds = unique((await this.graph.owners(keys)).values());
    for (const pending of await this.graph.pendingMerges(rawIds)) await this.resumeMerge(pending);
    const seen = unique((await this.graph.live(rawIds)).values()).sort();
    // Deterministic, so concurrent first events of one person agree on the new profile's id.
    const candidate = deterministicId('profile', keys[0]!);
    const seenAt = new Date(envelope.occurredAt);

    const locked = seen.length > 0 ? seen : [candidate];
    return this.graph.withLocks(locked, async () => {
      // Re-read under the claims: go on when every profile the event now meets is one we hold.
      const owners = await this.graph.owners(keys);
      const live = await this.graph.live(unique(owners.values()));
      const liveIds = unique(live.values()).sort();
      if (!liveIds.every((id) => locked.includes(id))) return undefined;
      const ownerOf = (key: string) => {
        const raw = owners.get(key);
        return raw === undefined ? undefined : live.get(raw);
      };

      let target = candidate;
      if (liveIds.length === 1) target = liveIds[0]!;
      if (liveIds.length > 1) {
        const profiles = await this.ensureProfiles(liveIds, seenAt);
        const combined = unique(profiles.flatMap((profile) => profile.identifiers));
        const evidence = identifiers.filter((identifier) => ownerOf(identifierKey(identifier)) !== undefined);
        const overLimit = this.breaksLimit(combined);
        const merge =
          overLimit.length === 0
            ? await this.graph.startMerge({
                _id: deterministicId('merge', ...liveIds),
                survivorId: this.survivor(profiles)._id,
                mergedIds: liveIds.filter((id) => id !== this.survivor(profiles)._id),
                reason,
                evidence,
                cause: this.causeOf(envelope),
              })
            : undefined;
        if (merge && (merge.status === 'pending' || merge.status === 'done')) {
          await this.completeMerge(merge);
          target = merge.survivorId;
        } else {
          // Attach to the profile of the highest-priority identifier the event shares (keys are sorted by priority).
          target = keys.map(ownerOf).find((owner) => owner !== undefined)!;
          const why = merge
            ? `an operator split these profiles apart (merge ${merge._id})`
            : `merging would exceed the limit of ${overLimit.join(', ')}`;
          await this.graph.recordConflict({
            _id: deterministicId('conflict', envelope.id),
            eventId: envelope.id,
            attachedTo: target,
            profileIds: liveIds,
            rejected: [],
            limits: this.rules.limits,
            reason: why,
          });
          this.logger.warn(`event ${envelope.id} connects ${liveIds.join(', ')}; not merged: ${why}`);
        }
      }

      // Join: the event's new identifiers go to the target, within its limits.
      const [profile] = await this.ensureProfiles([target], seenAt, liveIds.length === 0);
      const held = new Set(profile?.identifiers ?? []);
      const accepted: IdentifierDto[] = [];
      const rejected: string[] = [];
      for (const identifier of identifiers) {
        const key = identifierKey(identifier);
        if (owners.has(key)) continue;
        if (this.breaksLimit([...held, key]).length > 0) rejected.push(key);
        else {
          accepted.push(identifier);
          held.add(key);
        }
      }
      if (rejected.length > 0) {
        await this.graph.recordConflict({
          _id: deterministicId('conflict', envelope.id, 'join'),
          eventId: envelope.id,
          attachedTo: target,
          profileIds: [target],
          rejected,
          limits: this.rules.limits,
          reason: 'the profile already holds the most identifiers of this type',
        });
      }
      await this.graph.claim(accepted, target);
      const after = await this.graph.owners(keys);
      const mine = keys.filter((key) => after.get(key) === target);
      const foreign = accepted.some((identifier) => after.get(identifierKey(identifier)) !== target);
      if (mine.length === 0) return undefined; // a new profile that lost every claim: nothing was created
      const current = profile ?? (await this.ensureProfiles([target], seenAt))[0]!;
      if (!(await this.graph.touchProfile(current, mine, seenAt))) return undefined;
      // Another consumer claimed one of the identifiers for a different profile meanwhile: the next try merges.
      return foreign ? undefined : target;
    });
  }

  /** The profiles, created when missing (an identifier may already point to a profile a crash left unwritten). */
  private async ensureProfiles(
    ids: readonly string[],
    seenAt: Date,
    skipCreate = false,
  ): Promise<ProfileDocument[]> {
    let found = await this.graph.profilesById(ids);
    if (skipCreate) return ids.flatMap((id) => found.get(id) ?? []);
    if (ids.some((id) => !found.has(id))) {
      for (const id of ids) if (!found.has(id)) await this.graph.ensureProfile(id, seenAt);
      found = await this.graph.profilesById(ids);
    }
    return ids.map((id) => found.get(id)!);
  }

  /** Types whose limit these identifier keys exceed. */
  private breaksLimit(keys: readonly string[]): IdentifierType[] {
    const counts = new Map<IdentifierType, number>();
    for (const key of keys) counts.set(typeOfKey(key), (counts.get(typeOfKey(key)) ?? 0) + 1);
    return [...counts]
      .filter(([type, count]) => count > (this.rules.limits[type] ?? Infinity))
      .map(([type]) => type);
  }

  /** The profile with a user id, else the oldest (then the smallest id, so every consumer agrees). */
  private survivor(profiles: readonly ProfileDocument[]): ProfileDocument {
    const hasUser = (profile: ProfileDocument) =>
      profile.identifiers.some((key) => key.startsWith('user_id:'));
    return [...profiles].sort(
      (a, b) =>
        Number(hasUser(b)) - Number(hasUser(a)) ||
        a.firstSeen.getTime() - b.firstSeen.getTime() ||
        a._id.localeCompare(b._id),
    )[0]!;
  }

  private causeOf(envelope: IngestedEnvelope): MergeCause {
    return {
      id: envelope.id,
      correlationId: envelope.correlationId,
      source: envelope.source,
      occurredAt: envelope.occurredAt,
      receivedAt: envelope.receivedAt,
    };
  }

  /** A merge another attempt started but did not finish. */
  private async resumeMerge(merge: MergeDocument): Promise<void> {
    await this.graph.withLocks([merge.survivorId, ...merge.mergedIds], async () => {
      const current = await this.graph.merges.findOne({ _id: merge._id });
      if (current?.status === 'pending') await this.completeMerge(current);
    });
  }

  /** Applies, publishes and closes a merge; every step may run again with one effect. Callers hold the locks. */
  private async completeMerge(merge: MergeDocument): Promise<void> {
    if (merge.status !== 'pending') return;
    await this.graph.applyMerge(merge);
    const data: ProfilesMergedPayload = {
      mergeId: merge._id,
      survivorId: merge.survivorId,
      mergedIds: merge.mergedIds,
      reason: merge.reason,
      evidence: merge.evidence,
    };
    await this.publisher.publish(SUBJECTS.identity.merged, {
      id: deterministicId(merge._id, SUBJECTS.identity.merged),
      type: 'identity.merged',
      occurredAt: merge.cause.occurredAt,
      receivedAt: merge.cause.receivedAt,
      source: merge.cause.source,
      correlationId: merge.cause.correlationId,
      causationId: merge.cause.id,
      profileId: merge.survivorId,
      data,
    });
    await this.graph.finishMerge(merge._id);
    this.logger.log(`merge ${merge._id}: ${merge.mergedIds.join(', ')} into ${merge.survivorId}`);
  }
}
