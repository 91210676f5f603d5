import { Module } from '@nestjs/common';
import { BackfillSegmentUseCase } from './backfill-segment.usecase.js';
import { SegmentRegistry } from './segment-registry.js';
import { SegmentReviews } from './segment-reviews.js';
import { SegmentsController } from './segments.controller.js';
import { SegmentsRepository } from './segments.repository.js';

@Module({
  controllers: [SegmentsController],
  providers: [SegmentsRepository, SegmentRegistry, SegmentReviews, BackfillSegmentUseCase],
  exports: [SegmentsRepository, SegmentRegistry, SegmentReviews],
})
export class SegmentsModule {}
