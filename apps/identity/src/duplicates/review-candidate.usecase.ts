import { Injectable } from '@nestjs/common';
import { deterministicId } from '@mesh/contracts';
import { type MergeOutcome, type MergeRequest, ProfileMerger } from '../resolution/profile-merger.js';
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

/**
 * An operator's decision on a pending candidate: accept merges it (reason `fuzzy`), reject keeps the
 * pair apart for good. Two decisions on one candidate never both win: accept first moves it to
 * `accepting` (a reject then answers 409), reject moves it to `rejected` (an accept then answers 409).
 */
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
    const candidate = decided(candidateId, await this.duplicates.beginAccept(candidateId));
    const now = new Date().toISOString();
    const outcome = await acceptCandidate(this.duplicates, this.merger, candidate, {
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
      return {
        candidateId,
        status: 'merged',
        mergeId: outcome.merged._id,
        survivorId: outcome.merged.survivorId,
      };
    }
    if (outcome.refused === 'one_profile') return { candidateId, status: 'merged' };
    throw new ReviewError(ReviewErrorCode.NOT_MERGEABLE, refusalOf(outcome));
  }

  async reject(candidateId: string): Promise<ReviewResult> {
    decided(candidateId, await this.duplicates.reject(candidateId));
    return { candidateId, status: 'rejected' };
  }
}

/** The candidate a decision moved, or the error that tells why it did not. */
function decided(
  candidateId: string,
  result: { before: CandidateDocument | null; moved: boolean },
): CandidateDocument {
  if (!result.before) throw new ReviewError(ReviewErrorCode.UNKNOWN_CANDIDATE, `no candidate ${candidateId}`);
  if (!result.moved) {
    throw new ReviewError(
      ReviewErrorCode.ALREADY_DECIDED,
      `candidate ${candidateId} is ${result.before.status}`,
    );
  }
  return result.before;
}

export function refusalOf(outcome: Extract<MergeOutcome, { refused: 'limit' | 'split' }>): string {
  return outcome.refused === 'limit'
    ? `merging would exceed the limit of ${outcome.types.join(', ')}`
    : `an operator split these profiles apart (merge ${outcome.merge._id})`;
}

/**
 * Merges a candidate already moved to `accepting` and settles it: `merged`, or back to `pending` with
 * the refusal (a limit, a split) or after an error (the accept may be asked again).
 */
export async function acceptCandidate(
  duplicates: DuplicatesRepository,
  merger: ProfileMerger,
  candidate: CandidateDocument,
  request: MergeRequest,
): Promise<MergeOutcome> {
  let outcome: MergeOutcome;
  try {
    outcome = await merger.merge(candidate.profileIds, request);
  } catch (error) {
    await duplicates.endAccept(candidate._id, { status: 'pending', refusal: (error as Error).message });
    throw error;
  }
  if ('merged' in outcome) {
    await duplicates.endAccept(candidate._id, { status: 'merged', mergeId: outcome.merged._id });
  } else if (outcome.refused === 'one_profile') {
    await duplicates.endAccept(candidate._id, { status: 'merged' });
  } else {
    await duplicates.endAccept(candidate._id, { status: 'pending', refusal: refusalOf(outcome) });
  }
  return outcome;
}
