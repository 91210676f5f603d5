import { Injectable } from '@nestjs/common';
import { type Envelope, type ProfileSnapshotDto, type TriggerDto } from '@mesh/contracts';
import { context, propagation } from '@opentelemetry/api';
import { type RuleContext } from '../rules/rule.js';
import { Clock } from '../shared/clock.js';
import { type Campaign } from './campaign.js';
import {
  assign,
  cancels,
  type Entry,
  reentryDecision,
  triggerKeyOf,
  triggerMatches,
} from './campaign-decisions.js';
import { CampaignEntriesRepository } from './campaign-entries.repository.js';
import { CampaignRegistry } from './campaign-registry.js';
import { CampaignTimers, timerIdOf } from './campaign-timers.js';
import { SendIntentPublisher } from './send-intent.publisher.js';

export interface TriggerInput {
  envelope: Envelope;
  trigger: TriggerDto;
  profile: ProfileSnapshotDto;
  eventDays: Record<string, Record<string, number>>;
}

/**
 * Decides what an event does to campaigns for its profile: cancels the waits it ends, then enters the
 * campaigns it triggers — at once, or after their wait.
 */
@Injectable()
export class TriggerCampaignsUseCase {
  constructor(
    private readonly campaigns: CampaignRegistry,
    private readonly entries: CampaignEntriesRepository,
    private readonly timers: CampaignTimers,
    private readonly intents: SendIntentPublisher,
    private readonly clock: Clock,
  ) {}

  async execute(input: TriggerInput): Promise<void> {
    const { envelope, trigger, profile } = input;
    const now = this.clock.now();
    const rules: RuleContext = {
      traits: profile.traits,
      computed: profile.computed,
      properties: trigger.properties,
      segments: (profile.computed.segments as string[] | undefined) ?? [],
      eventDays: input.eventDays,
      now,
    };
    await this.cancelWaits(envelope, trigger.event, rules);
    for (const campaign of this.campaigns.all()) {
      if (triggerMatches(campaign, trigger.event, rules)) await this.enter(campaign, input, now);
    }
  }

  private async cancelWaits(envelope: Envelope, event: string, rules: RuleContext): Promise<void> {
    if (!envelope.profileId) return;
    for (const timer of await this.timers.pendingFor(envelope.profileId)) {
      if (timer.origin.id === envelope.id) continue;
      const campaign = this.campaigns.get(timer.campaignId);
      const ended =
        !campaign ||
        (cancels(campaign, event, rules) && Date.parse(envelope.occurredAt) >= Date.parse(timer.triggeredAt));
      if (!ended) continue;
      await this.timers.remove(timer);
      await this.entries.settle(timer.campaignId, timer.profileId, timer.triggerKey, 'cancelled');
    }
  }

  /**
   * The entry is written first, when the profile has none (one operation, the common case): a crash
   * before its effect (the send intent, the wait) leaves an entry naming this message, so the
   * redelivered message makes the effect again (same ids: the stream drops a copy, a wait is kept).
   */
  private async enter(campaign: Campaign, input: TriggerInput, now: number): Promise<void> {
    const { envelope, trigger } = input;
    const { campaignId } = campaign;
    const { profileId } = input.profile;
    const triggerKey = triggerKeyOf(envelope, trigger);
    const assignment = assign(campaign, profileId);
    const variant = assignment.kind === 'send' ? assignment.variant?.name : undefined;
    const waits = campaign.wait !== undefined && campaign.wait.seconds > 0;
    const state = assignment.kind === 'holdout' ? 'holdout' : waits ? 'waiting' : 'fired';
    const entry: Entry = { triggerKey, state, enteredAt: now, origin: envelope.id };
    const before = await this.entries.enterFirst(
      campaignId,
      profileId,
      entry,
      assignment.kind === 'holdout' ? 'holdout' : variant,
    );
    if (before?.origin === envelope.id) {
      // This message's own entry: it is redelivered. Made again only while the entry says so.
      if (before.state === state && state !== 'holdout')
        await this.effect(campaign, input, triggerKey, variant, now);
      return;
    }
    if (!before) {
      if (state !== 'holdout') await this.effect(campaign, input, triggerKey, variant, now);
      return;
    }
    const decision = reentryDecision(campaign, before, triggerKey, now);
    if (decision === 'skip') return;
    if (state === 'holdout') {
      await this.entries.enter(campaignId, profileId, entry, 'holdout');
      return;
    }
    // Effect first, then the entry: a crash between them repeats the effect, under the same ids.
    await this.effect(campaign, input, triggerKey, variant, now);
    if (decision === 'enter' || before.state !== state)
      await this.entries.enter(campaignId, profileId, entry, variant);
  }

  /** Schedules the campaign's wait, or publishes its send intent at once. */
  private async effect(
    campaign: Campaign,
    input: TriggerInput,
    triggerKey: string,
    variant: string | undefined,
    now: number,
  ): Promise<void> {
    const { envelope, trigger, profile } = input;
    const { campaignId } = campaign;
    const { profileId } = profile;
    const origin = {
      id: envelope.id,
      occurredAt: envelope.occurredAt,
      receivedAt: envelope.receivedAt,
      source: envelope.source,
      correlationId: envelope.correlationId,
    };
    if (campaign.wait && campaign.wait.seconds > 0) {
      const trace: Record<string, string> = {};
      propagation.inject(context.active(), trace);
      await this.timers.schedule({
        timerId: timerIdOf(campaignId, profileId, triggerKey),
        campaignId,
        profileId,
        triggerKey,
        trigger,
        ...(variant ? { variant } : {}),
        triggeredAt: envelope.occurredAt,
        dueAt: now + campaign.wait.seconds * 1000,
        origin,
        trace,
      });
      return;
    }
    await this.intents.publish({
      campaign,
      ...(variant ? { variantName: variant } : {}),
      profile,
      triggerKey,
      trigger,
      origin,
    });
  }
}
