import { Module } from '@nestjs/common';
import { AcceptEventUseCase } from './accept-event.usecase.js';
import { TrackingController } from './tracking.controller.js';

@Module({
  controllers: [TrackingController],
  providers: [AcceptEventUseCase],
  exports: [AcceptEventUseCase],
})
export class TrackingModule {}
