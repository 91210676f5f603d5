import { Injectable } from '@nestjs/common';
import {
  deterministicId,
  type Envelope,
  type ProfileSnapshotDto,
  SUBJECTS,
  type TriggerDto,
} from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { context, propagation } from '@opentelemetry/api';
import { type Campaign, specOf } from './campaign.js';

export interface SendIntent {
  campaign: Campaign;
  variantName?: string;
  profile: ProfileSnapshotDto;
  triggerKey: string;
  trigger: TriggerDto;
  /** The message the decision came from (the trigger event). */
  origin: Pick<Envelope, 'id' | 'occurredAt' | 'receivedAt' | 'source' | 'correlationId'>;
  /** Trace context to continue when the send is decided later than the event (after a wait). */
  trace?: Record<string, string>;
}

/** The id of the one send intent per (campaign, profile, trigger key): a re-fire is dropped. */
export function sendIntentId(campaignId: string, profileId: string, triggerKey: string): string {
  return deterministicId(SUBJECTS.enrichment.triggered, campaignId, profileId, triggerKey);
}

/** Publishes `enrichment.triggered`: the campaign spec, the variant and the profile it was decided on. */
@Injectable()
export class SendIntentPublisher {
  constructor(private readonly publisher: MessagePublisher) {}

  async publish(intent: SendIntent): Promise<void> {
    const { campaign, profile, triggerKey, trigger, origin } = intent;
    const variant = campaign.variants?.find((candidate) => candidate.name === intent.variantName);
    const envelope = {
      id: sendIntentId(campaign.campaignId, profile.profileId, triggerKey),
      type: 'campaign.triggered',
      occurredAt: origin.occurredAt,
      receivedAt: origin.receivedAt,
      source: origin.source,
      correlationId: origin.correlationId,
      causationId: origin.id,
      profileId: profile.profileId,
      data: { campaign: specOf(campaign, variant), triggerKey, trigger, profile },
    };
    const parent = intent.trace
      ? propagation.extract(context.active(), intent.trace, {
          get: (carrier, key) => carrier[key],
          keys: (carrier) => Object.keys(carrier),
        })
      : context.active();
    await context.with(parent, () => this.publisher.publish(SUBJECTS.enrichment.triggered, envelope));
  }
}
