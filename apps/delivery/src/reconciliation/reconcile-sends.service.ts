import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DeliveryEnv } from '../config.js';
import { SendLedgerRepository } from '../sending/send-ledger.repository.js';

/**
 * Finds sends left `sending` by a process that died during the SMTP call and marks them for review:
 * whether the email went out is unknown, so it is never re-sent blindly. An operator (admin API) or
 * the ESP's report of that Message-ID settles it.
 */
@Injectable()
export class ReconcileSendsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReconcileSendsService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly ledger: SendLedgerRepository,
    @Inject(DeliveryEnv) private readonly env: DeliveryEnv,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runOnce(), this.env.DELIVERY_RECONCILE_INTERVAL_MS);
    this.timer.unref();
    void this.runOnce();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; returns how many sends it marked for review. */
  async runOnce(): Promise<number> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        const cutoff = new Date(Date.now() - this.env.DELIVERY_RECONCILE_AFTER_SECONDS * 1000);
        const marked = await this.ledger.markStaleForReview(cutoff);
        if (marked > 0)
          this.logger.warn(`${marked} send(s) interrupted mid-SMTP marked for review (GET /admin/sends)`);
        return marked;
      } catch (error) {
        this.logger.warn(`reconciliation pass failed: ${(error as Error).message}`);
        return 0;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
