import { Module } from '@nestjs/common';
import { MetricsAdminController } from './metrics-admin.controller.js';
import { MetricsHandler } from './metrics.handler.js';
import { MetricsRepository } from './metrics.repository.js';

/** Campaign metrics: counted from delivery's own events, read through the admin API. */
@Module({
  controllers: [MetricsHandler, MetricsAdminController],
  providers: [MetricsRepository],
})
export class MetricsModule {}
