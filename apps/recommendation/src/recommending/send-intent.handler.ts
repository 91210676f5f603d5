import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { AttachRecommendationsUseCase } from './attach-recommendations.usecase.js';

@Controller()
export class SendIntentHandler {
  constructor(private readonly attach: AttachRecommendationsUseCase) {}

  @OnMessage('enrichment.triggered')
  async handle(@Payload() envelope: EnvelopeOf<'enrichment.triggered'>): Promise<void> {
    await this.attach.execute(envelope);
  }
}
