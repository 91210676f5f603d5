import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, MessagePublisher, OnMessage } from '@mesh/messaging';
import { ErasePersonUseCase } from './erase-person.usecase.js';

@Controller()
export class EraseRequestedHandler {
  constructor(
    private readonly erase: ErasePersonUseCase,
    private readonly publisher: MessagePublisher,
  ) {}

  @OnMessage('privacy.erase.requested')
  async handle(@Payload() envelope: EnvelopeOf<'privacy.erase.requested'>): Promise<void> {
    await this.erase.execute(envelope, this.publisher);
  }
}
