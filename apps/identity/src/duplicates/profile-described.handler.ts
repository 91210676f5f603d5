import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { DetectDuplicatesUseCase } from './detect-duplicates.usecase.js';

/** Identify calls and back-office profile updates describe a person: look for their fuzzy duplicates. */
@Controller()
export class ProfileDescribedHandler {
  constructor(private readonly detect: DetectDuplicatesUseCase) {}

  @OnMessage('identity.resolved.identify', { orderBy: (envelope) => envelope.profileId })
  async identified(@Payload() envelope: EnvelopeOf<'identity.resolved.identify'>): Promise<void> {
    await this.detect.execute(envelope);
  }

  @OnMessage('identity.resolved.profile', { orderBy: (envelope) => envelope.profileId })
  async profiled(@Payload() envelope: EnvelopeOf<'identity.resolved.profile'>): Promise<void> {
    await this.detect.execute(envelope);
  }
}
