import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { SuppressionRepository } from './suppression.repository.js';

/**
 * Hard bounces and complaints — from the SMTP reply or from the ESP's webhook, both announced on
 * delivery's own subjects — put the address on the suppression list. Soft bounces only count.
 */
@Controller()
export class BounceSuppressionHandler {
  constructor(private readonly suppressions: SuppressionRepository) {}

  @OnMessage('delivery.bounced')
  async bounced(@Payload() envelope: EnvelopeOf<'delivery.bounced'>): Promise<void> {
    if (envelope.data.kind !== 'hard') return;
    await this.suppressions.add(envelope.data.to, {
      reason: 'hard_bounce',
      source: envelope.source,
      at: new Date(envelope.occurredAt),
    });
  }

  @OnMessage('delivery.complained')
  async complained(@Payload() envelope: EnvelopeOf<'delivery.complained'>): Promise<void> {
    await this.suppressions.add(envelope.data.to, {
      reason: 'complaint',
      source: envelope.source,
      at: new Date(envelope.occurredAt),
    });
  }
}
