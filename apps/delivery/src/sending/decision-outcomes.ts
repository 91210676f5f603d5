import { Inject, Injectable } from '@nestjs/common';
import { type DeferReason, type Envelope, type RenderedEmailPayload, type SkipReason } from '@mesh/contracts';
import { DeliveryEnv } from '../config.js';
import { DeferralWakeups } from '../deferrals/deferral-wakeups.js';
import { DeferralsRepository, PRIORITY_HOLD } from '../deferrals/deferrals.repository.js';
import { HoldWindows } from '../deferrals/hold-windows.js';
import { DeliveryAnnouncer } from './delivery-announcer.js';

export type SendOutcome = 'sent' | 'skipped' | 'deferred' | 'held' | 'failed' | 'announced';

/** Carries out a decision not to send now: a skip is announced, a deferral is parked durably and announced. */
@Injectable()
export class DecisionOutcomes {
  constructor(
    private readonly deferrals: DeferralsRepository,
    private readonly announce: DeliveryAnnouncer,
    private readonly wakeups: DeferralWakeups,
    private readonly windows: HoldWindows,
    @Inject(DeliveryEnv) private readonly env: DeliveryEnv,
  ) {}

  /**
   * Holds the send for the profile's priority window (durably, before the intent is acked). Not
   * announced: it is decided — sent or skipped — when the window ends.
   */
  async hold(envelope: Envelope<RenderedEmailPayload>, sendId: string, now: Date): Promise<SendOutcome> {
    const profileId = envelope.profileId ?? '';
    const until = await this.windows.join(profileId, sendId, now, this.env.DELIVERY_PRIORITY_WINDOW_MS);
    const parked = await this.deferrals.hold({
      key: sendId,
      envelope,
      dueAt: until,
      priority: envelope.data.campaign.priority ?? 0,
      reason: PRIORITY_HOLD,
    });
    if (parked === 'duplicate') return this.skip(envelope, sendId, 'duplicate');
    this.wakeups.wakeIn(profileId, until, until.getTime() - now.getTime());
    return 'held';
  }

  async skip(
    envelope: Envelope<RenderedEmailPayload>,
    sendId: string,
    reason: SkipReason,
    detail?: string,
  ): Promise<SendOutcome> {
    await this.announce.skipped(envelope, sendId, reason, detail);
    return 'skipped';
  }

  async defer(
    envelope: Envelope<RenderedEmailPayload>,
    sendId: string,
    until: Date,
    reason: DeferReason,
  ): Promise<SendOutcome> {
    const parked = await this.deferrals.defer({
      key: sendId,
      envelope,
      dueAt: until,
      priority: envelope.data.campaign.priority ?? 0,
      reason,
    });
    if (parked === 'duplicate') return this.skip(envelope, sendId, 'duplicate');
    await this.announce.deferred(envelope, sendId, until, reason);
    return 'deferred';
  }
}
