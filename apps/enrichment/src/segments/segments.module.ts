import { Module } from '@nestjs/common';
import { BackfillSegmentUseCase } from './backfill-segment.usecase.js';
import { SegmentRegistry } from './segment-registry.js';
import { SegmentsController } from './segments.controller.js';
import { SegmentsRepository } from './segments.repository.js';

@Module({
  controllers: [SegmentsController],
  providers: [SegmentsRepository, SegmentRegistry, BackfillSegmentUseCase],
  exports: [SegmentsRepository, SegmentRegistry],
})
export class SegmentsModule {}
