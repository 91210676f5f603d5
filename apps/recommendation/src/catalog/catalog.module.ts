import { Module } from '@nestjs/common';
import { CatalogRepository } from './catalog.repository.js';
import { LearnFromEventUseCase } from './learn-from-event.usecase.js';
import { PopularityRepository } from './popularity.repository.js';
import { TrackEventHandler } from './track-event.handler.js';

@Module({
  controllers: [TrackEventHandler],
  providers: [CatalogRepository, PopularityRepository, LearnFromEventUseCase],
  exports: [CatalogRepository, PopularityRepository],
})
export class CatalogModule {}
