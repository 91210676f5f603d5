import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { EnrichmentEnv } from '../config.js';
import { Clock } from '../shared/clock.js';
import { CampaignTimers } from './campaign-timers.js';
import { FireDueTimerUseCase } from './fire-due-timer.usecase.js';

/** A claimed timer not finished within this is handed to another worker (this one died). */
const LEASE_MS = 60_000;
const BATCH = 100;

/** Polls the timer set and fires what is due; every replica runs one, each timer is claimed once. */
@Injectable()
export class DueTimersWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DueTimersWorker.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly timers: CampaignTimers,
    private readonly fire: FireDueTimerUseCase,
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

  /** One pass: claims the due timers and fires them. Returns how many were claimed. */
  async tick(): Promise<number> {
    const now = this.clock.now();
    const claimed = await this.timers.claimDue(now, now + LEASE_MS, BATCH);
    const results = await Promise.allSettled(claimed.map((timerId) => this.fire.execute(timerId)));
    for (const result of results) {
      // The claim stays: the timer is retried when its lease runs out.
      if (result.status === 'rejected')
        this.logger.error(`a due campaign timer failed: ${String(result.reason)}`);
    }
    return claimed.length;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.error(`polling campaign timers failed: ${String(error)}`))
        .finally(() => this.schedule());
    }, this.env.CAMPAIGN_TIMER_POLL_MS);
  }
}
