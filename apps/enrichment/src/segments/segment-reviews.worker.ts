import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { EnrichmentEnv } from '../config.js';
import { Clock } from '../shared/clock.js';
import { ReviewSegmentsUseCase } from './review-segments.usecase.js';
import { SegmentReviews } from './segment-reviews.js';

/** A claimed review not finished within this is handed to another worker (this one died). */
const LEASE_MS = 60_000;
const BATCH = 100;

/**
 * Polls the segment review set and re-evaluates the profiles that are due; every replica runs one,
 * each review is claimed by one at a time. No scan: only profiles whose membership is due to change.
 */
@Injectable()
export class SegmentReviewsWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SegmentReviewsWorker.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly reviews: SegmentReviews,
    private readonly review: ReviewSegmentsUseCase,
    private readonly clock: Clock,
    @Inject(EnrichmentEnv) private readonly env: EnrichmentEnv,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: claims the due reviews and runs them. Returns how many were claimed. */
  async tick(): Promise<number> {
    const now = this.clock.now();
    const claimed = await this.reviews.claimDue(now, now + LEASE_MS, BATCH);
    const results = await Promise.allSettled(
      claimed.map(async (due) => {
        await this.review.execute(due);
        await this.reviews.release(due);
      }),
    );
    for (const result of results) {
      // The claim stays: the review is retried when its lease runs out.
      if (result.status === 'rejected')
        this.logger.error(`a segment review failed: ${String(result.reason)}`);
    }
    return claimed.length;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.error(`polling segment reviews failed: ${String(error)}`))
        .finally(() => this.schedule());
    }, this.env.CAMPAIGN_TIMER_POLL_MS);
  }
}
