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
import { type SendOutcome, SendEmailUseCase } from '../sending/send-email.usecase.js';
import { DeferralWakeups } from './deferral-wakeups.js';
import {
  type DeferredSend,
  DeferralsRepository,
  type DueSend,
  PRIORITY_HOLD,
} from './deferrals.repository.js';

/** How long one release may take before another poller may take the send over. */
const LEASE_MS = 120_000;
const RETRY_MS = 30_000;
const BATCH = 100;

/** Per profile, the highest priority whose send took one of its cap slots in this run. */
type SlotsTaken = Map<string, number>;

/** A released send that went on (sent, or waiting again with its slot reserved) took a slot. */
const tookSlot = (outcome: SendOutcome) => outcome === 'sent' || outcome === 'deferred';

/**
 * Sends deferred sends once they are due, highest priority first so that when caps collide the
 * more important campaign gets the slot: the morning batch after quiet hours, and the groups held
 * for the priority window (a profile's held group is leased and decided as a whole, in order). Each
 * one passes the whole decision point again (consent may have changed overnight); the ledger still
 * guarantees one email per send key. A send that loses its slot to a higher-priority one released
 * in the same run is skipped `frequency_capped` / `lower_priority`.
 */
@Injectable()
export class ReleaseDeferredService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReleaseDeferredService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopping = false;

  constructor(
    private readonly deferrals: DeferralsRepository,
    private readonly send: SendEmailUseCase,
    private readonly clock: Clock,
    wakeups: DeferralWakeups,
    @Inject(DeliveryEnv) private readonly env: DeliveryEnv,
  ) {
    wakeups.onWake(() => void this.runOnce());
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runOnce(), this.env.DELIVERY_DEFERRAL_POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Releases what is due; asked while a run is under way, runs once more after it. */
  runOnce(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.releaseDue().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopping) {
        this.again = false;
        void this.runOnce();
      }
    });
    return this.running;
  }

  private async releaseDue(): Promise<void> {
    const taken: SlotsTaken = new Map();
    try {
      for (const due of await this.deferrals.due(this.clock.now(), BATCH)) {
        if (this.stopping) return;
        if (due.reason === PRIORITY_HOLD) await this.releaseHeldGroup(due, taken);
        else await this.releaseOne(due.key, taken);
      }
    } catch (error) {
      this.logger.warn(`releasing deferred sends failed: ${(error as Error).message}`);
    }
  }

  private async releaseOne(key: string, taken: SlotsTaken): Promise<void> {
    const now = this.clock.now();
    const deferred = await this.deferrals.lease(key, now, LEASE_MS);
    if (deferred) await this.release(deferred, now, taken);
  }

  /** The profile's held sends whose window has ended, leased together and decided in priority order. */
  private async releaseHeldGroup(due: DueSend, taken: SlotsTaken): Promise<void> {
    const now = this.clock.now();
    for (const deferred of await this.deferrals.leaseHeldGroup(due.profileId, now, LEASE_MS)) {
      if (this.stopping) return;
      await this.release(deferred, now, taken);
    }
  }

  private async release(deferred: DeferredSend, now: Date, taken: SlotsTaken): Promise<void> {
    const key = deferred.key;
    const profileId = deferred.envelope.profileId ?? '';
    const outranked = (taken.get(profileId) ?? -Infinity) > deferred.priority;
    try {
      const outcome = await this.send.execute(deferred.envelope, { released: true, outranked });
      if (tookSlot(outcome))
        taken.set(profileId, Math.max(taken.get(profileId) ?? -Infinity, deferred.priority));
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
