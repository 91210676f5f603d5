import { Module } from '@nestjs/common';
import { RecommendedSendHandler } from './recommended-send.handler.js';
import { RenderEmailUseCase } from './render-email.usecase.js';

@Module({
  controllers: [RecommendedSendHandler],
  providers: [RenderEmailUseCase],
})
export class RenderingModule {}
