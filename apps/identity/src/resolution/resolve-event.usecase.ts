import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  deriveEnvelope,
  deterministicId,
  type Envelope,
  type EventType,
  type IdentifierDto,
  type IngestedEventBase,
  type PayloadOf,
  SUBJECTS,
} from '@mesh/contracts';
import { MessagePublisher, PermanentError } from '@mesh/messaging';
import { type ExtractionOptions, extractIdentifiers, identifierKey, normalizeId } from './identifiers.js';
import { type MergeOutcome, ProfileMerger } from './profile-merger.js';
import {
  IdentityGraphRepository,
  type MergeCause,
  type ProfileDocument,
} from './identity-graph.repository.js';

export const EXTRACTION_OPTIONS = Symbol('EXTRACTION_OPTIONS');
export { DEFAULT_LIMITS, IDENTITY_RULES, type IdentityRules } from './profile-merger.js';

const MAX_ATTEMPTS = 60;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type IngestedEnvelope = Envelope<
  IngestedEventBase & { traits?: Record<string, unknown>; previousId?: string }
>;

const unique = <T>(values: Iterable<T>) => [...new Set(values)];

/**
 * Finds the one live profile an ingested event belongs to — creating it, joining it, or merging the
 * profiles the event connects — and republishes the event on `identity.resolved.<type>` with it.
 *
 * Several consumers may handle one person's events at once (the handler's order key is one
 * identifier; replicas share the consumer), and FerretDB has no transactions, so every change of the
 * graph runs under claims (Redis) on the profiles it touches, re-reads what it decided on once it holds
 * them, and starts over when the graph moved. An event whose identifiers are all cached for one profile
 * changes nothing but a sighting and needs no claim: one store command.
 * Every step is idempotent and a merge is resumable: its audit entry is written first, and a later
 * event or a redelivery that meets a pending merge completes it.
 */
@Injectable()
export class ResolveEventUseCase {
  private readonly logger = new Logger(ResolveEventUseCase.name);

  constructor(
    private readonly graph: IdentityGraphRepository,
    private readonly merger: ProfileMerger,
    private readonly publisher: MessagePublisher,
    @Inject(EXTRACTION_OPTIONS) private readonly extraction: ExtractionOptions,
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
    const seenAt = new Date(envelope.occurredAt);
    return (
      (await this.attemptCached(keys, seenAt)) ??
      this.attemptGraph(envelope, identifiers, keys, seenAt, reason)
    );
  }

  /**
   * The hot path, one store command: every identifier of the event is cached for one profile, and the
   * sighting written to it returns the profile, live and listing every key. No claim is needed: an
   * entry is written only under its profile's claim after reading MongoDB; an erasure or a merge marks
   * the profile document (`erasing`, `mergedInto`) before it deletes the entries, and the sighting
   * matches no `erasing` profile and is refused on `mergedInto`; the sighting only moves
   * firstSeen/lastSeen (commutative). So an event resolved here was sighted before the erasure or merge
   * changed anything, as when this path held the claim (its publish may still land after the erasure or
   * merge began, then as now). Undefined on a miss, two profiles, a marked profile or a stale entry:
   * the caller reads MongoDB, under claims.
   */
  private async attemptCached(keys: string[], seenAt: Date): Promise<string | undefined> {
    const cached = await this.graph.cache.get(keys);
    const [profileId, ...others] = unique(cached.values());
    if (!profileId || others.length > 0 || cached.size < unique(keys).length) return undefined;
    const profile = await this.graph.touchLive(profileId, seenAt);
    if (profile && !profile.mergedInto && keys.every((key) => profile.identifiers.includes(key))) {
      return profileId;
    }
    this.logger.warn(`stale identifier cache entries for profile ${profileId}: reading MongoDB`);
    // Deleting an entry is always safe (a miss reads MongoDB); only claim holders write them.
    await this.graph.cache.forget(keys);
    return undefined;
  }

  /** Resolution from MongoDB, under claims; the identifiers it ends up with are cached for the profile. */
  private async attemptGraph(
    envelope: IngestedEnvelope,
    identifiers: IdentifierDto[],
    keys: string[],
    seenAt: Date,
    reason: string,
  ): Promise<string | undefined> {
    const rawIds = unique((await this.graph.owners(keys)).values());
    if (rawIds.length === 0) return this.attemptNew(envelope, identifiers, keys, seenAt);
    const read = new Map<string, ProfileDocument>();
    let seen = unique((await this.graph.live(rawIds, read)).values()).sort();
    const pending = await this.graph.pendingMerges(unique([...rawIds, ...seen]), read);
    for (const merge of pending) await this.merger.resume(merge);
    if (pending.length > 0) seen = unique((await this.graph.live(rawIds)).values()).sort();

    return this.graph.withLocks(seen, async () => {
      // Re-read under the claims: go on when every profile the event now meets is one we hold.
      const owners = await this.graph.owners(keys);
      // Profiles read under the claims: current until the claims are released (their writers hold them).
      const held = new Map<string, ProfileDocument>();
      const live = await this.graph.live(unique(owners.values()), held);
      const liveIds = unique(live.values()).sort();
      // (None left: they were erased or re-keyed meanwhile; the next try starts a new profile.)
      if (liveIds.length === 0 || !liveIds.every((id) => seen.includes(id))) return undefined;
      // An erasure that failed part way (it runs again) left a marked profile: never resolve to it.
      if (liveIds.some((id) => held.get(id)?.erasing)) return undefined;
      const ownerOf = (key: string) => {
        const raw = owners.get(key);
        return raw === undefined ? undefined : live.get(raw);
      };

      let target = liveIds[0]!;
      if (liveIds.length > 1) {
        const profiles = await this.ensureProfiles(liveIds, seenAt, false, held);
        const evidence = identifiers.filter((identifier) => ownerOf(identifierKey(identifier)) !== undefined);
        const outcome = await this.merger.mergeHeld(profiles, {
          reason,
          evidence,
          cause: this.causeOf(envelope),
        });
        if ('merged' in outcome) target = outcome.merged.survivorId;
        else {
          // Attach to the profile of the highest-priority identifier the event shares (keys are sorted by priority).
          target = keys.map(ownerOf).find((owner) => owner !== undefined)!;
          const why = refusal(outcome);
          await this.graph.recordConflict({
            _id: deterministicId('conflict', envelope.id),
            eventId: envelope.id,
            attachedTo: target,
            profileIds: liveIds,
            rejected: [],
            limits: this.merger.rules.limits,
            reason: why,
          });
          this.logger.warn(`event ${envelope.id} connects ${liveIds.join(', ')}; not merged: ${why}`);
        }
      }

      // Join: the event's new identifiers go to the target, within its limits.
      // (A merge changed the survivor: read it again.)
      if (liveIds.length > 1) held.delete(target);
      const [profile] = await this.ensureProfiles([target], seenAt, false, held);
      const fresh = identifiers.filter((identifier) => !owners.has(identifierKey(identifier)));
      const accepted = await this.withinLimits(envelope, target, fresh, profile!.identifiers);
      const given = await this.graph.claim(accepted, target);
      // Known owners do not move while their live profiles are claimed; a fresh identifier this claim did
      // not give was taken by someone else meanwhile: read whose.
      const after = new Map(owners);
      for (const key of given) after.set(key, target);
      const taken = accepted.map(identifierKey).filter((key) => !given.has(key));
      for (const [key, owner] of await this.graph.owners(taken)) after.set(key, owner);
      const mine = keys.filter((key) => after.get(key) === target);
      const foreign = taken.some((key) => after.get(key) !== target);
      if (!(await this.graph.touchProfile(profile!, mine, seenAt))) return undefined;
      // Another consumer claimed one of the identifiers for a different profile meanwhile: the next try merges.
      if (foreign) return undefined;
      // Still under the claim: these identifiers are the target's, on its list, and it is live.
      await this.graph.cache.set(mine, target);
      return target;
    });
  }

  /**
   * A person none of whose identifiers is known: a new profile, under the claim of its deterministic id
   * (concurrent first events of one person agree on it). The identifiers are claimed in one command
   * whose result says which it gave; when another profile took one meanwhile, this call gives back what
   * it took (nobody else writes to a profile id while it is claimed) and the next try joins that one.
   */
  private async attemptNew(
    envelope: IngestedEnvelope,
    identifiers: IdentifierDto[],
    keys: string[],
    seenAt: Date,
  ): Promise<string | undefined> {
    const candidate = deterministicId('profile', keys[0]!);
    return this.graph.withLocks([candidate], async () => {
      const accepted = await this.withinLimits(envelope, candidate, identifiers, []);
      const given = await this.graph.claim(accepted, candidate);
      const taken = accepted.map(identifierKey).filter((key) => !given.has(key));
      const owners = await this.graph.owners(taken);
      if ([...owners.values()].some((owner) => owner !== candidate)) {
        await this.graph.unclaim([...given], candidate);
        return undefined;
      }
      const mine = keys.filter((key) => given.has(key) || owners.has(key));
      if (mine.length === 0) return undefined;
      await this.graph.createProfile(candidate, mine, seenAt);
      await this.graph.cache.set(mine, candidate);
      return candidate;
    });
  }

  /**
   * The identifiers the target may take on top of those it holds (first come first served within a
   * type's limit); the rest are recorded as a conflict of the event.
   */
  private async withinLimits(
    envelope: IngestedEnvelope,
    target: string,
    identifiers: readonly IdentifierDto[],
    holding: readonly string[],
  ): Promise<IdentifierDto[]> {
    const keysHeld = new Set(holding);
    const accepted: IdentifierDto[] = [];
    const rejected: string[] = [];
    for (const identifier of identifiers) {
      const key = identifierKey(identifier);
      if (this.merger.overLimit([...keysHeld, key]).length > 0) rejected.push(key);
      else {
        accepted.push(identifier);
        keysHeld.add(key);
      }
    }
    if (rejected.length > 0) {
      await this.graph.recordConflict({
        _id: deterministicId('conflict', envelope.id, 'join'),
        eventId: envelope.id,
        attachedTo: target,
        profileIds: [target],
        rejected,
        limits: this.merger.rules.limits,
        reason: 'the profile already holds the most identifiers of this type',
      });
    }
    return accepted;
  }

  /** The profiles, created when missing (an identifier may already point to a profile a crash left unwritten). */
  private async ensureProfiles(
    ids: readonly string[],
    seenAt: Date,
    skipCreate = false,
    known = new Map<string, ProfileDocument>(),
  ): Promise<ProfileDocument[]> {
    let found = new Map(known);
    const missing = ids.filter((id) => !found.has(id));
    for (const [id, document] of await this.graph.profilesById(missing)) found.set(id, document);
    if (skipCreate) return ids.flatMap((id) => found.get(id) ?? []);
    if (ids.some((id) => !found.has(id))) {
      for (const id of ids) if (!found.has(id)) await this.graph.ensureProfile(id, seenAt);
      found = await this.graph.profilesById(ids);
    }
    return ids.map((id) => found.get(id)!);
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
}

function refusal(outcome: Exclude<MergeOutcome, { merged: unknown }>): string {
  switch (outcome.refused) {
    case 'split':
      return `an operator split these profiles apart (merge ${outcome.merge._id})`;
    case 'limit':
      return `merging would exceed the limit of ${outcome.types.join(', ')}`;
    case 'one_profile':
      return 'they are one profile already';
  }
}
