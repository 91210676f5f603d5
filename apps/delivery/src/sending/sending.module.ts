import { Module } from '@nestjs/common';
import { DecisionsModule } from '../decisions/decisions.module.js';
import { DeferralsModule } from '../deferrals/deferrals.module.js';
import { DeliveryAnnouncer } from './delivery-announcer.js';
import { Mailer } from './mailer.js';
import { RenderedHandler } from './rendered.handler.js';
import { SendEmailUseCase } from './send-email.usecase.js';
import { SendLedgerRepository } from './send-ledger.repository.js';

@Module({
  imports: [DecisionsModule, DeferralsModule],
  controllers: [RenderedHandler],
  providers: [Mailer, SendLedgerRepository, DeliveryAnnouncer, SendEmailUseCase],
  exports: [SendLedgerRepository, SendEmailUseCase, DeliveryAnnouncer],
})
export class SendingModule {}
