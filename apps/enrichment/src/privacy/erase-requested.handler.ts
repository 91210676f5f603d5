import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { EraseProfilesUseCase } from './erase-profiles.usecase.js';

@Controller()
export class EraseRequestedHandler {
  constructor(private readonly erase: EraseProfilesUseCase) {}

  @OnMessage('privacy.erase.requested')
  async handle(@Payload() envelope: EnvelopeOf<'privacy.erase.requested'>): Promise<void> {
    await this.erase.execute(envelope);
  }
}
