import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../shared/clock.js';
import { reentryDecision } from './campaign-decisions.js';
import { CampaignEntriesRepository } from './campaign-entries.repository.js';
import { CampaignRegistry } from './campaign-registry.js';
import { type CampaignTimer, CampaignTimers, timerIdOf } from './campaign-timers.js';

/** How long a merge waits for a profile's firing wait to finish (a firing takes milliseconds). */
const HOLD_WAIT_MS = 10_000;

/**
 * Campaign waits follow merges: the pending timers of merged-away profiles are re-keyed to the
 * survivor (same campaign, trigger key, variant and due time), so cancel-if events of the survivor
 * cancel them and a fired wait sends once, for the survivor, under the id (campaign, survivor,
 * trigger key). Idempotent: the moved timer's id is deterministic and scheduled with NX, the old one
 * is removed last, so a redelivered merge (or a crash half-way) ends with one timer.
 *
 * Re-entry: when the survivor already waits in the same campaign, the survivor's own timer is kept and
 * the moved one dropped — its entry is already the survivor's latest in `campaign_entries` and was
 * decided under the survivor's re-entry rule, so keeping it needs no rewrite; either way one send.
 * Otherwise the survivor's re-entry rule decides over the moved trigger (e.g. `once` and the survivor
 * already got it → dropped).
 */
@Injectable()
export class FollowMergeUseCase {
  private readonly logger = new Logger(FollowMergeUseCase.name);

  constructor(
    private readonly timers: CampaignTimers,
    private readonly campaigns: CampaignRegistry,
    private readonly entries: CampaignEntriesRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * `identity.merged`: marks each merged profile, then moves its pending timers, holding the waits of
   * the survivor and of that profile meanwhile (a wait firing for either is let finish first, so the
   * "survivor already waits" check and its re-entry rule see a settled survivor). A hold not had
   * within HOLD_WAIT_MS throws: the merge is redelivered and tried again.
   */
  async merged(mergedIds: readonly string[], survivorId: string): Promise<void> {
    const survivorHold = await this.hold(survivorId);
    try {
      for (const mergedId of mergedIds) {
        const hold = await this.hold(mergedId);
        try {
          await this.timers.markMerged([mergedId], survivorId);
          for (const timer of await this.timers.pendingFor(mergedId)) await this.move(timer, survivorId);
        } finally {
          await this.timers.letGo(mergedId, hold);
        }
      }
    } finally {
      await this.timers.letGo(survivorId, survivorHold);
    }
  }

  private async hold(profileId: string): Promise<string> {
    const giveUpAt = Date.now() + HOLD_WAIT_MS;
    for (;;) {
      const hold = await this.timers.tryHold(profileId);
      if (hold !== undefined) return hold;
      if (Date.now() > giveUpAt) {
        throw new Error(`the campaign waits of ${profileId} stayed held for ${HOLD_WAIT_MS} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * A due timer of a profile merged away meanwhile (the merge came between its claim and its
   * firing, or the timer was scheduled late): re-keyed to the survivor (fires on a next tick) or
   * dropped. Returns whether the timer was taken over here.
   */
  async resolve(timer: CampaignTimer): Promise<boolean> {
    const survivorId = await this.timers.mergedInto(timer.profileId);
    if (survivorId === undefined || survivorId === timer.profileId) return false;
    await this.move(timer, survivorId);
    return true;
  }

  private async move(timer: CampaignTimer, survivorId: string): Promise<void> {
    const campaign = this.campaigns.get(timer.campaignId);
    const timerId = timerIdOf(timer.campaignId, survivorId, timer.triggerKey);
    const waiting = (await this.timers.pendingFor(survivorId)).filter(
      (pending) => pending.campaignId === timer.campaignId,
    );
    const drop = (reason: string) => {
      this.logger.log(
        `merge: timer of campaign ${timer.campaignId} for merged profile ${timer.profileId} dropped: ${reason}`,
      );
    };
    if (!campaign) drop('the campaign is gone');
    else if (waiting.some((pending) => pending.timerId === timerId)) {
      // Moved already (a redelivered merge): only the old one is left to remove.
    } else if (waiting.length > 0) drop(`survivor ${survivorId} already waits in this campaign`);
    else {
      const now = this.clock.now();
      const entry = await this.entries.get(timer.campaignId, survivorId);
      const decision = reentryDecision(campaign, entry, timer.triggerKey, now);
      if (decision === 'skip') drop(`the re-entry rule of survivor ${survivorId} refuses it`);
      else {
        // Entry first: a crash after it finds 'again' on redelivery and still schedules.
        if (decision === 'enter') {
          await this.entries.enter(
            timer.campaignId,
            survivorId,
            { triggerKey: timer.triggerKey, state: 'waiting', enteredAt: now },
            timer.variant,
          );
        }
        await this.timers.schedule({ ...timer, timerId, profileId: survivorId });
      }
    }
    await this.entries.settle(timer.campaignId, timer.profileId, timer.triggerKey, 'cancelled');
    await this.timers.remove(timer);
  }
}
