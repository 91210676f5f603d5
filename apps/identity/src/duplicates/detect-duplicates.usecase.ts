import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  type DuplicateCandidatePayload,
  deterministicId,
  type Envelope,
  type IdentifierDto,
  SUBJECTS,
} from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { IdentityGraphRepository, type ProfileDocument } from '../resolution/identity-graph.repository.js';
import { identifierKey } from '../resolution/identifiers.js';
import { ProfileMerger } from '../resolution/profile-merger.js';
import { type CandidateDocument, DuplicatesRepository } from './duplicates.repository.js';
import { acceptCandidate } from './review-candidate.usecase.js';
import { FUZZY_SETTINGS, type FuzzySettings } from './fuzzy-settings.js';
import { blockingKeys, personOf, similarity } from './person.js';

export interface DescribedProfile {
  traits: Record<string, unknown>;
  identifiers: IdentifierDto[];
}

/**
 * After an identify (or a back-office profile update), looks for profiles that share no identifier
 * but describe the same person. Only profiles in a common block are compared, never all pairs. A
 * pair scoring over the review threshold becomes a candidate (`identity.candidate`), proposed once;
 * over the auto-merge threshold it is merged at once through the normal merge path (reason `fuzzy`).
 * Idempotent: the person is replaced, block membership is a set, the candidate id is the pair's.
 */
@Injectable()
export class DetectDuplicatesUseCase {
  private readonly logger = new Logger(DetectDuplicatesUseCase.name);

  constructor(
    private readonly graph: IdentityGraphRepository,
    private readonly duplicates: DuplicatesRepository,
    private readonly merger: ProfileMerger,
    private readonly publisher: MessagePublisher,
    @Inject(FUZZY_SETTINGS) private readonly settings: FuzzySettings,
  ) {}

  async execute(envelope: Envelope<DescribedProfile>): Promise<void> {
    if (!envelope.profileId) return;
    const profileId = await this.liveProfile(envelope.profileId, envelope.data.identifiers);
    // Erased since it was resolved: keep nothing about the person.
    if (!profileId) return;
    const person = await this.duplicates.describe(
      profileId,
      personOf(envelope.data.traits, envelope.data.identifiers),
    );
    // None without a last name: such a person matches nobody, so there is nothing to compare.
    const keys = blockingKeys(person);
    if (keys.length === 0) return;
    await this.duplicates.recordBlocks(
      profileId,
      keys.filter((key) => !person.blockingKeys?.includes(key)),
    );
    const others = new Map<string, string[]>();
    for (const key of keys) {
      const members = await this.duplicates.joinBlock(key, profileId);
      if (members.length > this.settings.maxBlockSize) {
        this.logger.debug(`block ${key} has ${members.length} profiles: too common to compare`);
        continue;
      }
      for (const member of members) {
        if (member !== profileId) others.set(member, [...(others.get(member) ?? []), key]);
      }
    }
    const live = await this.graph.live([...others.keys()]);
    const comparisons = await Promise.all(
      [...others].map(async ([member, sharedKeys]) => {
        const otherId = live.get(member)!;
        if (otherId === profileId) return undefined;
        const other = (await this.duplicates.person(otherId)) ?? (await this.duplicates.person(member));
        return other ? { otherId, sharedKeys, ...similarity(person, other) } : undefined; // erased
      }),
    );
    for (const comparison of comparisons) {
      if (!comparison || comparison.score < this.settings.reviewScore) continue;
      const { otherId, sharedKeys, score, attributes } = comparison;
      const pair = [profileId, otherId].sort() as [string, string];
      const candidate = await this.duplicates.propose({
        _id: deterministicId('candidate', ...pair),
        profileIds: pair,
        score,
        evidence: { attributes, blockingKeys: sharedKeys },
        decision: score >= this.settings.autoMergeScore ? 'auto_merge' : 'review',
      });
      if (candidate.status !== 'pending') continue; // proposed before and settled (a rejection sticks)
      await this.announce(envelope, candidate);
      if (candidate.decision === 'auto_merge') await this.autoMerge(envelope, candidate);
    }
  }

  /**
   * The live profile the event's profile now is (undefined: erased). An identifier cache entry naming
   * it proves it without reading MongoDB: entries are written for a live profile's own identifiers, and
   * whoever merges or erases a profile deletes its entries first.
   */
  private async liveProfile(
    profileId: string,
    identifiers: readonly IdentifierDto[],
  ): Promise<string | undefined> {
    const cached = await this.graph.cache.get(identifiers.map(identifierKey));
    if ([...cached.values()].includes(profileId)) return profileId;
    const read = new Map<string, ProfileDocument>();
    const live = (await this.graph.live([profileId], read)).get(profileId)!;
    return read.has(live) ? live : undefined;
  }

  private async announce(envelope: Envelope<DescribedProfile>, candidate: CandidateDocument): Promise<void> {
    const data: DuplicateCandidatePayload = {
      candidateId: candidate._id,
      profileIds: candidate.profileIds,
      score: candidate.score,
      evidence: candidate.evidence,
      decision: candidate.decision,
    };
    await this.publisher.publish(SUBJECTS.identity.candidate, {
      // One message per candidate, whichever event found it.
      id: deterministicId(candidate._id, SUBJECTS.identity.candidate),
      type: 'identity.candidate',
      occurredAt: envelope.occurredAt,
      receivedAt: envelope.receivedAt,
      source: envelope.source,
      correlationId: envelope.correlationId,
      causationId: envelope.id,
      profileId: candidate.profileIds[0],
      data,
    });
  }

  private async autoMerge(envelope: Envelope<DescribedProfile>, candidate: CandidateDocument): Promise<void> {
    // The same claim as an operator's accept: an operator's decision made meanwhile stands.
    const { before, moved } = await this.duplicates.beginAccept(candidate._id);
    if (!before || !moved) return;
    await acceptCandidate(this.duplicates, this.merger, before, {
      reason: 'fuzzy',
      evidence: [],
      candidateId: candidate._id,
      cause: {
        id: envelope.id,
        correlationId: envelope.correlationId,
        source: envelope.source,
        occurredAt: envelope.occurredAt,
        receivedAt: envelope.receivedAt,
      },
    });
  }
}
