import { Injectable } from '@nestjs/common';
import {
  deriveEnvelope,
  type Envelope,
  type ProfileSnapshotDto,
  SUBJECTS,
  type TriggerDto,
} from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { CampaignsRepository } from './campaigns.repository.js';

/** The key an email is sent at most once for: the cart or order it is about, else the event itself. */
export function triggerKeyOf(envelope: Envelope, trigger: TriggerDto): string {
  const { cart_id: cartId, order_id: orderId } = trigger.properties;
  if (typeof cartId === 'string' && cartId !== '') return `cart:${cartId}`;
  if (typeof orderId === 'string' && orderId !== '') return `order:${orderId}`;
  return `event:${envelope.id}`;
}

/** Publishes a send intent for every enabled campaign the event triggers. */
@Injectable()
export class TriggerCampaignsUseCase {
  constructor(
    private readonly campaigns: CampaignsRepository,
    private readonly publisher: MessagePublisher,
  ) {}

  async execute(envelope: Envelope, trigger: TriggerDto, profile: ProfileSnapshotDto): Promise<void> {
    const campaigns = await this.campaigns.findEnabledForEvent(trigger.event);
    await Promise.all(
      campaigns.map(({ enabled: _enabled, trigger: _trigger, ...campaign }) =>
        this.publisher.publish(
          SUBJECTS.enrichment.triggered,
          deriveEnvelope(envelope, {
            stage: `${SUBJECTS.enrichment.triggered}:${campaign.campaignId}`,
            type: 'campaign.triggered',
            data: { campaign, triggerKey: triggerKeyOf(envelope, trigger), trigger, profile },
          }),
        ),
      ),
    );
  }
}
