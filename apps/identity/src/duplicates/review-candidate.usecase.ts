import { Injectable } from '@nestjs/common';
import { deterministicId } from '@mesh/contracts';
import { ProfileMerger } from '../resolution/profile-merger.js';
import { type CandidateDocument, DuplicatesRepository } from './duplicates.repository.js';

export enum ReviewErrorCode {
  UNKNOWN_CANDIDATE = 'UNKNOWN_CANDIDATE',
  ALREADY_DECIDED = 'ALREADY_DECIDED',
  NOT_MERGEABLE = 'NOT_MERGEABLE',
}

export class ReviewError extends Error {
  constructor(
    readonly code: ReviewErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ReviewResult {
  candidateId: string;
  status: CandidateDocument['status'];
  mergeId?: string;
  survivorId?: string;
}

/** An operator's decision on a pending candidate: accept merges it (reason `fuzzy`), reject keeps the pair apart for good. */
@Injectable()
export class ReviewCandidateUseCase {
  constructor(
    private readonly duplicates: DuplicatesRepository,
    private readonly merger: ProfileMerger,
  ) {}

  pending(limit: number): Promise<CandidateDocument[]> {
    return this.duplicates.pending(limit);
  }

  async accept(candidateId: string): Promise<ReviewResult> {
    const candidate = await this.pendingCandidate(candidateId);
    const now = new Date().toISOString();
    const outcome = await this.merger.merge(candidate.profileIds, {
      reason: 'fuzzy',
      evidence: [],
      candidateId,
      cause: {
        id: deterministicId(candidateId, 'accepted'),
        correlationId: candidateId,
        source: 'identity-review',
        occurredAt: now,
        receivedAt: now,
      },
    });
    if ('merged' in outcome) {
      await this.duplicates.decide(candidateId, 'merged', { mergeId: outcome.merged._id });
      return {
        candidateId,
        status: 'merged',
        mergeId: outcome.merged._id,
        survivorId: outcome.merged.survivorId,
      };
    }
    if (outcome.refused === 'one_profile') {
      await this.duplicates.decide(candidateId, 'merged');
      return { candidateId, status: 'merged' };
    }
    const why =
      outcome.refused === 'limit'
        ? `merging would exceed the limit of ${outcome.types.join(', ')}`
        : `an operator split these profiles apart (merge ${outcome.merge._id})`;
    throw new ReviewError(ReviewErrorCode.NOT_MERGEABLE, why);
  }

  async reject(candidateId: string): Promise<ReviewResult> {
    await this.pendingCandidate(candidateId);
    if (!(await this.duplicates.decide(candidateId, 'rejected'))) {
      throw new ReviewError(
        ReviewErrorCode.ALREADY_DECIDED,
        `candidate ${candidateId} was decided meanwhile`,
      );
    }
    return { candidateId, status: 'rejected' };
  }

  private async pendingCandidate(candidateId: string): Promise<CandidateDocument> {
    const candidate = await this.duplicates.candidates.findOne({ _id: candidateId });
    if (!candidate) throw new ReviewError(ReviewErrorCode.UNKNOWN_CANDIDATE, `no candidate ${candidateId}`);
    if (candidate.status !== 'pending') {
      throw new ReviewError(
        ReviewErrorCode.ALREADY_DECIDED,
        `candidate ${candidateId} is ${candidate.status}`,
      );
    }
    return candidate;
  }
}
