import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { isPermanent } from '@mesh/messaging';
import { Clock } from '../clock.js';
import { DeliveryEnv } from '../config.js';
import { SendEmailUseCase } from '../sending/send-email.usecase.js';
import { DeferralsRepository } from './deferrals.repository.js';

/** How long one release may take before another poller may take the send over. */
const LEASE_MS = 120_000;
const RETRY_MS = 30_000;
const BATCH = 100;

/**
 * Sends deferred sends once they are due, highest priority first so that when caps collide the
 * more important campaign gets the slot. Each one passes the whole decision point again (consent may
 * have changed overnight); the ledger still guarantees one email per send key.
 */
@Injectable()
export class ReleaseDeferredService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReleaseDeferredService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly deferrals: DeferralsRepository,
    private readonly send: SendEmailUseCase,
    private readonly clock: Clock,
    @Inject(DeliveryEnv) private readonly env: DeliveryEnv,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runOnce(), this.env.DELIVERY_DEFERRAL_POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  runOnce(): Promise<void> {
    this.running ??= this.releaseDue().finally(() => (this.running = undefined));
    return this.running;
  }

  private async releaseDue(): Promise<void> {
    try {
      for (const key of await this.deferrals.due(this.clock.now(), BATCH)) {
        if (this.stopping) return;
        await this.release(key);
      }
    } catch (error) {
      this.logger.warn(`releasing deferred sends failed: ${(error as Error).message}`);
    }
  }

  private async release(key: string): Promise<void> {
    const now = this.clock.now();
    const deferred = await this.deferrals.lease(key, now, LEASE_MS);
    if (!deferred) return;
    try {
      const outcome = await this.send.execute(deferred.envelope);
      if (outcome !== 'deferred') await this.deferrals.remove(key);
    } catch (error) {
      if (isPermanent(error)) {
        // The ledger keeps what happened (e.g. an unknown outcome waits for review there).
        this.logger.error(`deferred send ${key} failed for good: ${(error as Error).message}`);
        await this.deferrals.remove(key);
        return;
      }
      this.logger.warn(`deferred send ${key} failed, retrying: ${(error as Error).message}`);
      await this.deferrals.retryAt(key, new Date(now.getTime() + RETRY_MS));
    }
  }
}
