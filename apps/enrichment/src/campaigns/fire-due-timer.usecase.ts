import { Injectable } from '@nestjs/common';
import { ProfileReader } from '../profiles/profile-reader.js';
import { Clock } from '../shared/clock.js';
import { CampaignEntriesRepository } from './campaign-entries.repository.js';
import { CampaignRegistry } from './campaign-registry.js';
import { type CampaignTimer, CampaignTimers } from './campaign-timers.js';
import { FollowMergeUseCase } from './follow-merge.usecase.js';
import { SendIntentPublisher } from './send-intent.publisher.js';

/**
 * A wait ran out: send the campaign to the profile as it is now, unless the campaign was disabled or
 * the profile left its audience meanwhile, or was merged away (then the wait moves to the survivor).
 * The profile's waits are held meanwhile (CampaignTimers.tryHold), so a merge never moves them
 * half-way through. Removing the timer comes last, so a crash before it only means the next claim
 * publishes the same intent id again (dropped by the stream).
 */
@Injectable()
export class FireDueTimerUseCase {
  constructor(
    private readonly timers: CampaignTimers,
    private readonly campaigns: CampaignRegistry,
    private readonly profiles: ProfileReader,
    private readonly entries: CampaignEntriesRepository,
    private readonly intents: SendIntentPublisher,
    private readonly follow: FollowMergeUseCase,
    private readonly clock: Clock,
  ) {}

  async execute(timerId: string): Promise<void> {
    const timer = await this.timers.get(timerId);
    if (!timer) {
      await this.timers.release(timerId);
      return;
    }
    // A merge is moving this profile's waits: this one is tried again on a next tick, after it.
    const hold = await this.timers.tryHold(timer.profileId);
    if (hold === undefined) {
      await this.timers.requeue(timerId, this.clock.now());
      return;
    }
    try {
      await this.fire(timer);
    } finally {
      await this.timers.letGo(timer.profileId, hold);
    }
  }

  private async fire(timer: CampaignTimer): Promise<void> {
    // Never sent for a profile merged away: re-keyed to its survivor (fires on a next tick) instead.
    if (await this.follow.resolve(timer)) return;
    const campaign = this.campaigns.get(timer.campaignId);
    const profile = await this.profiles.snapshot(timer.profileId);
    const segments = (profile?.computed.segments as string[] | undefined) ?? [];
    if (
      !campaign?.enabled ||
      !profile ||
      (campaign.audience && !segments.includes(campaign.audience.segmentId))
    ) {
      await this.end(timer, 'cancelled');
      return;
    }
    await this.intents.publish({
      campaign,
      ...(timer.variant ? { variantName: timer.variant } : {}),
      profile,
      triggerKey: timer.triggerKey,
      trigger: timer.trigger,
      origin: timer.origin,
      trace: timer.trace,
    });
    await this.end(timer, 'fired');
  }

  private async end(timer: CampaignTimer, state: 'fired' | 'cancelled'): Promise<void> {
    await this.entries.settle(timer.campaignId, timer.profileId, timer.triggerKey, state);
    await this.timers.remove(timer);
  }
}
