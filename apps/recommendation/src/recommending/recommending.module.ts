import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module.js';
import { FeedbackModule } from '../feedback/feedback.module.js';
import { PropensityModule } from '../propensity/propensity.module.js';
import { AttachRecommendationsUseCase } from './attach-recommendations.usecase.js';
import { RecommendationsController } from './recommendations.controller.js';
import { Recommender } from './recommender.js';
import { SendIntentHandler } from './send-intent.handler.js';

@Module({
  imports: [CatalogModule, PropensityModule, FeedbackModule],
  controllers: [SendIntentHandler, RecommendationsController],
  providers: [AttachRecommendationsUseCase, Recommender],
  exports: [Recommender],
})
export class RecommendingModule {}
