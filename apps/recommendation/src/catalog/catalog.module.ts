import { Module } from '@nestjs/common';
import { PropensityModule } from '../propensity/propensity.module.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import { CatalogController } from './catalog.controller.js';
import { CatalogRepository } from './catalog.repository.js';
import { LearnFromEventUseCase } from './learn-from-event.usecase.js';
import { TrackEventHandler } from './track-event.handler.js';

@Module({
  imports: [PropensityModule],
  controllers: [TrackEventHandler, CatalogController],
  providers: [CatalogRepository, LearnFromEventUseCase, AdminTokenGuard],
  exports: [CatalogRepository, AdminTokenGuard],
})
export class CatalogModule {}
