import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { SuppressionRepository } from '../decisions/suppression.repository.js';
import { RecordFeedbackUseCase } from './record-feedback.usecase.js';

/**
 * Hard bounces and complaints — from the SMTP reply or from the ESP's webhook, both announced on
 * delivery's own subjects — put the address on the suppression list. Soft bounces are counted per
 * address (once per email), and too many within the window suppress it too.
 */
@Controller()
export class BounceSuppressionHandler {
  constructor(
    private readonly suppressions: SuppressionRepository,
    private readonly feedback: RecordFeedbackUseCase,
  ) {}

  @OnMessage('delivery.bounced')
  async bounced(@Payload() envelope: EnvelopeOf<'delivery.bounced'>): Promise<void> {
    const at = new Date(envelope.occurredAt);
    if (envelope.data.kind === 'soft') {
      const bounceId = envelope.data.sendId ?? envelope.id;
      await this.feedback.countSoftBounce(envelope.data.to, bounceId, at, envelope.source);
      return;
    }
    await this.suppressions.add(envelope.data.to, { reason: 'hard_bounce', source: envelope.source, at });
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
