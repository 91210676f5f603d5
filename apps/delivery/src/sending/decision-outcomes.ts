import { Injectable } from '@nestjs/common';
import { type DeferReason, type Envelope, type RenderedEmailPayload, type SkipReason } from '@mesh/contracts';
import { DeferralsRepository } from '../deferrals/deferrals.repository.js';
import { DeliveryAnnouncer } from './delivery-announcer.js';

export type SendOutcome = 'sent' | 'skipped' | 'deferred' | 'failed' | 'announced';

/** Carries out a decision not to send now: a skip is announced, a deferral is parked durably and announced. */
@Injectable()
export class DecisionOutcomes {
  constructor(
    private readonly deferrals: DeferralsRepository,
    private readonly announce: DeliveryAnnouncer,
  ) {}

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
