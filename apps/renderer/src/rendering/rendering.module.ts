import { Module } from '@nestjs/common';
import { RecommendedSendHandler } from './recommended-send.handler.js';
import { RenderEmailUseCase } from './render-email.usecase.js';
import { RenderPool } from './render-pool.js';

@Module({
  controllers: [RecommendedSendHandler],
  providers: [RenderEmailUseCase, RenderPool],
  exports: [RenderPool],
})
export class RenderingModule {}
