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
import { type DeferredSend, DeferralsRepository, type DueSend } from './deferrals.repository.js';
import { HoldWindows } from './hold-windows.js';

/** How long one release may take before another poller may take the sends over. */
const LEASE_MS = 120_000;
const RETRY_MS = 30_000;
/** Sends looked at per poll round; rounds go on while they come back full (bounded per run). */
const BATCH = 500;
const MAX_ROUNDS_PER_RUN = 20;

/** A released send that went on (sent, or waiting again with its slot reserved) took a slot. */
const tookSlot = (outcome: SendOutcome) => outcome === 'sent' || outcome === 'deferred';

/** Highest priority first, then first due, then first arrived. */
const releaseOrder = (a: DeferredSend, b: DeferredSend) =>
  b.priority - a.priority || a.dueAt.getTime() - b.dueAt.getTime() || (a.arrivedAt ?? 0) - (b.arrivedAt ?? 0);

/**
 * Sends deferred sends once they are due: the morning batch after quiet hours, 4xx retries, and the
 * sends held for the priority window (released when the window ends, from the wake on the replica
 * that held them; the poll finds what a wake missed). A profile's sends released together are
 * decided in order, highest campaign priority first, so when caps collide the more important
 * campaign gets the slot; one that loses its slot to a higher-priority one released with it is
 * skipped `frequency_capped` / `lower_priority`. Profiles are released side by side, up to
 * MESSAGING_CONCURRENCY at once. Each send passes the whole decision point again (consent may have
 * changed overnight); the ledger still guarantees one email per send key.
 */
@Injectable()
export class ReleaseDeferredService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReleaseDeferredService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;
  /** Profile releases under way, and those waiting for a turn. */
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly releases = new Set<Promise<void>>();

  constructor(
    private readonly deferrals: DeferralsRepository,
    private readonly windows: HoldWindows,
    private readonly send: SendEmailUseCase,
    private readonly clock: Clock,
    wakeups: DeferralWakeups,
    @Inject(DeliveryEnv) private readonly env: DeliveryEnv,
  ) {
    wakeups.onWake((profileId, until) => void this.releaseWindow(profileId, until));
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runOnce(), this.env.DELIVERY_DEFERRAL_POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    for (const wake of this.waiting.splice(0)) wake();
    await this.running;
    await Promise.all(this.releases);
  }

  /** One poll: releases every due send, profile by profile (nothing due: one Redis call, no read). */
  runOnce(): Promise<void> {
    this.running ??= this.releaseDue().finally(() => (this.running = undefined));
    return this.running;
  }

  private async releaseDue(): Promise<void> {
    try {
      for (let round = 0; round < MAX_ROUNDS_PER_RUN && !this.stopping; round++) {
        const due = await this.deferrals.due(this.clock.now(), BATCH);
        const byProfile = new Map<string, DueSend[]>();
        for (const send of due)
          byProfile.set(send.profileId, [...(byProfile.get(send.profileId) ?? []), send]);
        await Promise.all(
          [...byProfile.values()].map((sends) =>
            this.releaseTogether((now) => this.deferrals.lease(sends, now, LEASE_MS)),
          ),
        );
        if (due.length < BATCH) return;
      }
    } catch (error) {
      this.logger.warn(`releasing deferred sends failed: ${(error as Error).message}`);
    }
  }

  /**
   * The profile's priority window has ended: its sends, taken from the window in Redis (so no one
   * else releases them; no lease written), read by `_id`.
   */
  private releaseWindow(profileId: string, until: Date): Promise<void> {
    return this.releaseTogether(async () => {
      const keys = await this.windows.take(profileId, until);
      return Promise.all(keys.map((key) => this.deferrals.get(key)));
    });
  }

  /** Decides the sends (of one profile) in release order; one already done (gone) is left out. */
  private releaseTogether(sendsOf: (now: Date) => Promise<(DeferredSend | undefined)[]>): Promise<void> {
    const release = this.inTurn(async () => {
      if (this.stopping) return;
      const now = this.clock.now();
      const sends = (await sendsOf(now)).filter((send) => send !== undefined).sort(releaseOrder);
      // The highest priority whose send took one of the profile's cap slots in this release.
      let taken = -Infinity;
      for (const deferred of sends) {
        if (this.stopping) return; // the rest is found again by the poll
        const outcome = await this.release(deferred, now, taken > deferred.priority);
        if (outcome && tookSlot(outcome)) taken = Math.max(taken, deferred.priority);
      }
    }).catch((error: unknown) =>
      this.logger.warn(`releasing deferred sends of a profile failed: ${(error as Error).message}`),
    );
    this.releases.add(release);
    void release.finally(() => this.releases.delete(release));
    return release;
  }

  private async release(
    deferred: DeferredSend,
    now: Date,
    outranked: boolean,
  ): Promise<SendOutcome | undefined> {
    const key = deferred.key;
    try {
      const outcome = await this.send.execute(deferred.envelope, { released: true, outranked });
      if (outcome !== 'deferred') await this.deferrals.remove(deferred);
      return outcome;
    } catch (error) {
      if (isPermanent(error)) {
        // The ledger keeps what happened (e.g. an unknown outcome waits for review there).
        this.logger.error(`deferred send ${key} failed for good: ${(error as Error).message}`);
        await this.deferrals.remove(deferred);
        return undefined;
      }
      this.logger.warn(`deferred send ${key} failed, retrying: ${(error as Error).message}`);
      await this.deferrals.retryAt(deferred, new Date(now.getTime() + RETRY_MS));
      return undefined;
    }
  }

  /** Runs `task` when fewer than MESSAGING_CONCURRENCY profile releases are under way. */
  private async inTurn(task: () => Promise<void>): Promise<void> {
    while (this.active >= this.env.MESSAGING_CONCURRENCY && !this.stopping)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
