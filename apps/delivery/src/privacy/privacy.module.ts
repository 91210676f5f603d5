import { Module } from '@nestjs/common';
import { ConversionsModule } from '../conversions/conversions.module.js';
import { DecisionsModule } from '../decisions/decisions.module.js';
import { DeferralsModule } from '../deferrals/deferrals.module.js';
import { FeedbackModule } from '../feedback/feedback.module.js';
import { SendingModule } from '../sending/sending.module.js';
import { ErasePersonUseCase } from './erase-person.usecase.js';
import { EraseRequestedHandler } from './erase-requested.handler.js';

@Module({
  imports: [SendingModule, DecisionsModule, DeferralsModule, FeedbackModule, ConversionsModule],
  controllers: [EraseRequestedHandler],
  providers: [ErasePersonUseCase],
})
export class PrivacyModule {}
