import { Module } from '@nestjs/common';
import { RecommendedSendHandler } from './recommended-send.handler.js';
import { RenderEmailUseCase } from './render-email.usecase.js';
import { TemplateEngine } from './template-engine.js';

@Module({
  controllers: [RecommendedSendHandler],
  providers: [TemplateEngine, RenderEmailUseCase],
})
export class RenderingModule {}
