import { Module } from '@nestjs/common';
import { DecisionsModule } from '../decisions/decisions.module.js';
import { SendingModule } from '../sending/sending.module.js';
import { RecordEngagementUseCase } from './record-engagement.usecase.js';
import { TrackingController } from './tracking.controller.js';

@Module({
  imports: [SendingModule, DecisionsModule],
  controllers: [TrackingController],
  providers: [RecordEngagementUseCase],
})
export class TrackingModule {}
