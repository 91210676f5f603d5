import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { ErasePersonUseCase } from './erase-person.usecase.js';

@Controller()
export class EraseRequestedHandler {
  constructor(private readonly erase: ErasePersonUseCase) {}

  @OnMessage('privacy.erase.requested', { orderBy: (envelope) => envelope.data.requestId })
  async handle(@Payload() envelope: EnvelopeOf<'privacy.erase.requested'>): Promise<void> {
    await this.erase.execute(envelope);
  }
}
