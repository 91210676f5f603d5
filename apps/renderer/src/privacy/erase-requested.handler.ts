import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { EraseSamplesUseCase } from './erase-samples.usecase.js';

@Controller()
export class EraseRequestedHandler {
  constructor(private readonly erase: EraseSamplesUseCase) {}

  @OnMessage('privacy.erase.requested')
  async handle(@Payload() envelope: EnvelopeOf<'privacy.erase.requested'>): Promise<void> {
    await this.erase.execute(envelope);
  }
}
