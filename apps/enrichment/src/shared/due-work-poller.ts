import { type BeforeApplicationShutdown, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { type Clock } from './clock.js';

/** A claimed item not finished within this is handed to another worker (this one died). */
const LEASE_MS = 60_000;
const BATCH = 100;

/**
 * Polls a Redis set of due work (campaign timers, segment reviews) on every replica: each pass claims
 * what is due with a lease, so each item is worked by one replica at a time, and runs the claimed items
 * side by side. A failed item keeps its claim and is retried when the lease runs out.
 */
export abstract class DueWorkPoller<T> implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(this.constructor.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  /**
   * @param what the work, for logs (e.g. "campaign timers")
   * @param pollMs how long to wait between passes
   */
  protected constructor(
    private readonly what: string,
    protected readonly clock: Clock,
    private readonly pollMs: number,
  ) {}

  /** Claims up to `limit` items due at `now`, each until `leaseUntil`. */
  protected abstract claimDue(now: number, leaseUntil: number, limit: number): Promise<T[]>;

  /** Works one claimed item; resolves once its effect is durable. */
  protected abstract work(item: T): Promise<void>;

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: claims the due items and works them. Returns how many were claimed. */
  async tick(): Promise<number> {
    const now = this.clock.now();
    const claimed = await this.claimDue(now, now + LEASE_MS, BATCH);
    const results = await Promise.allSettled(claimed.map((item) => this.work(item)));
    for (const result of results) {
      if (result.status === 'rejected')
        this.logger.error(`one of the due ${this.what} failed: ${String(result.reason)}`);
    }
    return claimed.length;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.error(`polling ${this.what} failed: ${String(error)}`))
        .finally(() => this.schedule());
    }, this.pollMs);
  }
}
