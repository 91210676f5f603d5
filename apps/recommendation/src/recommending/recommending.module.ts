import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module.js';
import { AttachRecommendationsUseCase } from './attach-recommendations.usecase.js';
import { SendIntentHandler } from './send-intent.handler.js';

@Module({
  imports: [CatalogModule],
  controllers: [SendIntentHandler],
  providers: [AttachRecommendationsUseCase],
})
export class RecommendingModule {}
