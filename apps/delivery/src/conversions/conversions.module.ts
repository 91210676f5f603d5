import { Module } from '@nestjs/common';
import { AttributionRepository } from './attribution.repository.js';
import { ConversionsHandler } from './conversions.handler.js';

/** Orders credited to the emails that led to them (delivery.converted). */
@Module({
  controllers: [ConversionsHandler],
  providers: [AttributionRepository],
  exports: [AttributionRepository],
})
export class ConversionsModule {}
