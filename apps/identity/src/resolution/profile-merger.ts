import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  deterministicId,
  type IdentifierDto,
  type IdentifierType,
  type ProfilesMergedPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import {
  IdentityGraphRepository,
  type MergeCause,
  type MergeDocument,
  type ProfileDocument,
} from './identity-graph.repository.js';

export const IDENTITY_RULES = Symbol('IDENTITY_RULES');

/** Per identifier type: the most a live profile may hold (absent: no limit). */
export type IdentifierLimits = Partial<Record<IdentifierType, number>>;

export interface IdentityRules {
  limits: IdentifierLimits;
}

export const DEFAULT_LIMITS: IdentifierLimits = { user_id: 1, crm_id: 1, email: 5, phone: 5 };

const typeOfKey = (key: string) => key.slice(0, key.indexOf(':')) as IdentifierType;

export interface MergeRequest {
  reason: string;
  evidence: IdentifierDto[];
  cause: MergeCause;
  candidateId?: string;
}

export type MergeOutcome =
  | { merged: MergeDocument }
  | { refused: 'limit'; types: IdentifierType[] }
  | { refused: 'split'; merge: MergeDocument }
  | { refused: 'one_profile' };

/**
 * The one way profiles are merged (by shared identifiers, alias or a fuzzy match): survivor rule,
 * limits, the audit entry first, then the idempotent data steps, `identity.merged` and the entry's
 * close. A merge an operator split is never redone by the same set of profiles.
 */
@Injectable()
export class ProfileMerger {
  private readonly logger = new Logger(ProfileMerger.name);

  constructor(
    private readonly graph: IdentityGraphRepository,
    private readonly publisher: MessagePublisher,
    @Inject(IDENTITY_RULES) readonly rules: IdentityRules,
  ) {}

  /** Merges these live profiles (the caller holds their claims). */
  async mergeHeld(profiles: readonly ProfileDocument[], request: MergeRequest): Promise<MergeOutcome> {
    const liveIds = profiles.map((profile) => profile._id).sort();
    if (liveIds.length < 2) return { refused: 'one_profile' };
    const types = this.overLimit([...new Set(profiles.flatMap((profile) => profile.identifiers))]);
    if (types.length > 0) return { refused: 'limit', types };
    const survivorId = this.survivor(profiles)._id;
    const merge = await this.graph.startMerge({
      _id: deterministicId('merge', ...liveIds),
      survivorId,
      mergedIds: liveIds.filter((id) => id !== survivorId),
      reason: request.reason,
      evidence: request.evidence,
      cause: request.cause,
      ...(request.candidateId ? { candidateId: request.candidateId } : {}),
    });
    if (merge.status === 'split' || merge.status === 'splitting') return { refused: 'split', merge };
    await this.complete(merge);
    return { merged: merge };
  }

  /** Claims the profiles these ids live in and merges them. */
  async merge(ids: readonly string[], request: MergeRequest): Promise<MergeOutcome> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const liveIds = [...new Set((await this.graph.live(ids)).values())].sort();
      const outcome = await this.graph.withLocks(liveIds, async () => {
        const now = [...new Set((await this.graph.live(ids)).values())].sort();
        if (now.join() !== liveIds.join()) return undefined; // merged meanwhile: look again
        const profiles = await this.graph.profilesById(liveIds);
        if (profiles.size !== liveIds.length) return { refused: 'one_profile' as const };
        return this.mergeHeld([...profiles.values()], request);
      });
      if (outcome) return outcome;
    }
    throw new Error(`merging ${ids.join(', ')}: the graph kept changing`);
  }

  /** Types whose limit these identifier keys exceed. */
  overLimit(keys: readonly string[]): IdentifierType[] {
    const counts = new Map<IdentifierType, number>();
    for (const key of keys) counts.set(typeOfKey(key), (counts.get(typeOfKey(key)) ?? 0) + 1);
    return [...counts]
      .filter(([type, count]) => count > (this.rules.limits[type] ?? Infinity))
      .map(([type]) => type);
  }

  /** The profile with a user id, else the oldest (then the smallest id, so every consumer agrees). */
  survivor(profiles: readonly ProfileDocument[]): ProfileDocument {
    const hasUser = (profile: ProfileDocument) =>
      profile.identifiers.some((key) => key.startsWith('user_id:'));
    return [...profiles].sort(
      (a, b) =>
        Number(hasUser(b)) - Number(hasUser(a)) ||
        a.firstSeen.getTime() - b.firstSeen.getTime() ||
        a._id.localeCompare(b._id),
    )[0]!;
  }

  /** A merge another attempt started but did not finish. */
  async resume(merge: MergeDocument): Promise<void> {
    await this.graph.withLocks([merge.survivorId, ...merge.mergedIds], async () => {
      const current = await this.graph.merges.findOne({ _id: merge._id });
      if (current?.status === 'pending') await this.complete(current);
    });
  }

  /** Applies, publishes and closes a merge; every step may run again with one effect. Callers hold the claims. */
  private async complete(merge: MergeDocument): Promise<void> {
    if (merge.status !== 'pending') return;
    await this.graph.applyMerge(merge);
    const data: ProfilesMergedPayload = {
      mergeId: merge._id,
      survivorId: merge.survivorId,
      mergedIds: merge.mergedIds,
      reason: merge.reason,
      evidence: merge.evidence,
      ...(merge.candidateId ? { candidateId: merge.candidateId } : {}),
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
    await this.graph.finishMerge(merge);
    this.logger.log(
      `merge ${merge._id} (${merge.reason}): ${merge.mergedIds.join(', ')} into ${merge.survivorId}`,
    );
  }
}
