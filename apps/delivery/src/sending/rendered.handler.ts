import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { SendEmailUseCase } from './send-email.usecase.js';

@Controller()
export class RenderedHandler {
  constructor(private readonly send: SendEmailUseCase) {}

  // One profile's emails one at a time: its caps and consent are decided in order.
  @OnMessage('renderer.rendered', { orderBy: (envelope) => envelope.profileId })
  async handle(@Payload() envelope: EnvelopeOf<'renderer.rendered'>): Promise<void> {
    await this.send.execute(envelope);
  }
}
