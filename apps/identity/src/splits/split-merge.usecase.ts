import { Injectable, Logger } from '@nestjs/common';
import { deterministicId, type ProfileSplitPayload, SUBJECTS } from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { IdentityGraphRepository, type MergeDocument } from '../resolution/identity-graph.repository.js';

export enum SplitErrorCode {
  UNKNOWN_MERGE = 'UNKNOWN_MERGE',
  ALREADY_SPLIT = 'ALREADY_SPLIT',
  MERGE_NOT_FINISHED = 'MERGE_NOT_FINISHED',
  ERASED = 'ERASED',
  SURVIVOR_MERGED_SINCE = 'SURVIVOR_MERGED_SINCE',
}

export class SplitError extends Error {
  constructor(
    readonly code: SplitErrorCode,
    message: string,
    readonly split?: ProfileSplitPayload,
  ) {
    super(message);
  }
}

/**
 * Undoes a merge from its audit entry: the merged profiles are live again with the identifiers they
 * brought, the survivor keeps its own and those that joined it later, and `identity.split` tells
 * downstream services to re-key. Resumable: the entry goes `done → splitting → split`, every step is
 * idempotent, and a request that meets `splitting` completes it with the same message id.
 */
@Injectable()
export class SplitMergeUseCase {
  private readonly logger = new Logger(SplitMergeUseCase.name);

  constructor(
    private readonly graph: IdentityGraphRepository,
    private readonly publisher: MessagePublisher,
  ) {}

  async execute(profileId: string, mergeId: string): Promise<ProfileSplitPayload> {
    const found = await this.graph.merges.findOne({ _id: mergeId });
    if (!found || (found.survivorId !== profileId && !found.mergedIds.includes(profileId))) {
      throw new SplitError(SplitErrorCode.UNKNOWN_MERGE, `profile ${profileId} has no merge ${mergeId}`);
    }
    return this.graph.withLocks([found.survivorId, ...found.mergedIds], async () => {
      const merge = (await this.graph.merges.findOne({ _id: mergeId }))!;
      await this.check(merge);
      if (merge.status === 'done') await this.graph.transitionMerge(merge._id, 'done', 'splitting');
      await this.graph.applySplit(merge);
      const data = splitOf(merge);
      await this.publisher.publish(SUBJECTS.identity.split, {
        id: deterministicId(merge._id, SUBJECTS.identity.split),
        type: 'identity.split',
        occurredAt: new Date().toISOString(),
        receivedAt: new Date().toISOString(),
        source: merge.cause.source,
        correlationId: merge.cause.correlationId,
        causationId: merge.cause.id,
        profileId: merge.survivorId,
        data,
      });
      await this.graph.transitionMerge(merge._id, 'splitting', 'split');
      this.logger.log(`split ${merge._id}: ${merge.mergedIds.join(', ')} out of ${merge.survivorId}`);
      return data;
    });
  }

  private async check(merge: MergeDocument): Promise<void> {
    switch (merge.status) {
      case 'split':
        throw new SplitError(SplitErrorCode.ALREADY_SPLIT, `merge ${merge._id} was split`, splitOf(merge));
      case 'pending':
        throw new SplitError(SplitErrorCode.MERGE_NOT_FINISHED, `merge ${merge._id} is still in progress`);
      case 'done':
      case 'splitting':
        break;
    }
    if (merge.erased)
      throw new SplitError(SplitErrorCode.ERASED, `the people of merge ${merge._id} were erased`);
    // Undoing a merge whose survivor was merged again would leave the later merge's profile holding
    // identifiers it no longer lists: split the later merge first.
    const survivor = (await this.graph.profilesById([merge.survivorId])).get(merge.survivorId);
    if (survivor?.mergedInto) {
      throw new SplitError(
        SplitErrorCode.SURVIVOR_MERGED_SINCE,
        `profile ${merge.survivorId} was merged into ${survivor.mergedInto} (merge ${survivor.mergeId}) since; split that first`,
      );
    }
  }
}

function splitOf(merge: MergeDocument): ProfileSplitPayload {
  return { mergeId: merge._id, survivorId: merge.survivorId, restoredIds: merge.mergedIds };
}
