import { Module } from '@nestjs/common';
import { LatestFeatures } from './latest-features.js';
import { ProfileUpdatedHandler } from './profile-updated.handler.js';
import { PropensityController } from './propensity.controller.js';
import { PropensityRepository } from './propensity.repository.js';
import { PropensityScorer } from './propensity-scorer.js';
import { TrainPropensityUseCase } from './train-propensity.usecase.js';
import { TrainingSchedule } from './training-schedule.js';

@Module({
  controllers: [ProfileUpdatedHandler, PropensityController],
  providers: [
    LatestFeatures,
    PropensityRepository,
    PropensityScorer,
    TrainPropensityUseCase,
    TrainingSchedule,
  ],
  exports: [PropensityRepository, PropensityScorer],
})
export class PropensityModule {}
