import { Module } from '@nestjs/common';
import { PropensityModule } from '../propensity/propensity.module.js';
import { CatalogController } from './catalog.controller.js';
import { CatalogRepository } from './catalog.repository.js';
import { LearnFromEventUseCase } from './learn-from-event.usecase.js';
import { TrackEventHandler } from './track-event.handler.js';

@Module({
  imports: [PropensityModule],
  controllers: [TrackEventHandler, CatalogController],
  providers: [CatalogRepository, LearnFromEventUseCase],
  exports: [CatalogRepository],
})
export class CatalogModule {}
