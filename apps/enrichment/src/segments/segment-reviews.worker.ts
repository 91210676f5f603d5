import { Inject, Injectable } from '@nestjs/common';
import { EnrichmentEnv } from '../config.js';
import { Clock } from '../shared/clock.js';
import { DueWorkPoller } from '../shared/due-work-poller.js';
import { ReviewSegmentsUseCase } from './review-segments.usecase.js';
import { type DueReview, SegmentReviews } from './segment-reviews.js';

/**
 * Polls the segment review set and re-evaluates the profiles that are due; every replica runs one,
 * each review is claimed by one at a time. No scan: only profiles whose membership is due to change.
 */
@Injectable()
export class SegmentReviewsWorker extends DueWorkPoller<DueReview> {
  constructor(
    private readonly reviews: SegmentReviews,
    private readonly review: ReviewSegmentsUseCase,
    clock: Clock,
    @Inject(EnrichmentEnv) env: EnrichmentEnv,
  ) {
    super('segment reviews', clock, env.CAMPAIGN_TIMER_POLL_MS);
  }

  protected claimDue(now: number, leaseUntil: number, limit: number): Promise<DueReview[]> {
    return this.reviews.claimDue(now, leaseUntil, limit);
  }

  protected async work(due: DueReview): Promise<void> {
    await this.review.execute(due);
    await this.reviews.release(due);
  }
}
