import { Controller, Logger } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { ApplyEventUseCase } from './apply-event.usecase.js';

/** Opens and clicks feed the engagement score; an unsubscribe is an email opt-out. */
@Controller()
export class DeliveryEventHandler {
  private readonly logger = new Logger(DeliveryEventHandler.name);

  constructor(private readonly apply: ApplyEventUseCase) {}

  @OnMessage('delivery.opened', { orderBy: (envelope) => envelope.profileId })
  async opened(@Payload() envelope: EnvelopeOf<'delivery.opened'>): Promise<void> {
    await this.handle(envelope, 'opened');
  }

  @OnMessage('delivery.clicked', { orderBy: (envelope) => envelope.profileId })
  async clicked(@Payload() envelope: EnvelopeOf<'delivery.clicked'>): Promise<void> {
    await this.handle(envelope, 'clicked');
  }

  @OnMessage('delivery.unsubscribed', { orderBy: (envelope) => envelope.profileId })
  async unsubscribed(@Payload() envelope: EnvelopeOf<'delivery.unsubscribed'>): Promise<void> {
    await this.handle(envelope, 'unsubscribed');
  }

  private async handle(
    envelope: EnvelopeOf<'delivery.opened' | 'delivery.clicked' | 'delivery.unsubscribed'>,
    outcome: 'opened' | 'clicked' | 'unsubscribed',
  ): Promise<void> {
    // Nothing to attribute it to: delivery knows the person only through the send intent's profile.
    if (!envelope.profileId) {
      this.logger.warn(`delivery.${outcome} ${envelope.id} has no profile id; ignored`);
      return;
    }
    await this.apply.execute(envelope, { kind: 'delivery', at: envelope.occurredAt, outcome });
  }
}
