import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { MergeProfilesUseCase } from './merge-profiles.usecase.js';
import { SplitProfileUseCase } from './split-profile.usecase.js';

@Controller()
export class IdentityChangesHandler {
  constructor(
    private readonly merge: MergeProfilesUseCase,
    private readonly split: SplitProfileUseCase,
  ) {}

  @OnMessage('identity.merged', { orderBy: (envelope) => envelope.data.survivorId })
  async merged(@Payload() envelope: EnvelopeOf<'identity.merged'>): Promise<void> {
    await this.merge.execute(envelope);
  }

  @OnMessage('identity.split', { orderBy: (envelope) => envelope.data.survivorId })
  async splitted(@Payload() envelope: EnvelopeOf<'identity.split'>): Promise<void> {
    await this.split.execute(envelope);
  }
}
