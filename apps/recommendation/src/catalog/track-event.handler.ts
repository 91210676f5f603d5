import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { LearnFromEventUseCase } from './learn-from-event.usecase.js';

@Controller()
export class TrackEventHandler {
  constructor(private readonly learn: LearnFromEventUseCase) {}

  @OnMessage('identity.resolved.track', { orderBy: (envelope) => envelope.profileId })
  async handle(@Payload() envelope: EnvelopeOf<'identity.resolved.track'>): Promise<void> {
    await this.learn.execute(envelope);
  }
}
