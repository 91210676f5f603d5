import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { RenderEmailUseCase } from './render-email.usecase.js';

@Controller()
export class RecommendedSendHandler {
  constructor(private readonly render: RenderEmailUseCase) {}

  @OnMessage('recommendation.attached')
  async handle(@Payload() envelope: EnvelopeOf<'recommendation.attached'>): Promise<void> {
    await this.render.execute(envelope);
  }
}
