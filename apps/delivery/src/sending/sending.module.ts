import { Module } from '@nestjs/common';
import { DecisionsModule } from '../decisions/decisions.module.js';
import { DeferralsModule } from '../deferrals/deferrals.module.js';
import { AttemptSend } from './attempt-send.js';
import { DecisionOutcomes } from './decision-outcomes.js';
import { DeliveryAnnouncer } from './delivery-announcer.js';
import { DomainThrottle } from './domain-throttle.js';
import { EmailComposer } from './email-composer.js';
import { ReplaySend } from './replay-send.js';
import { SmtpFailures } from './smtp-failures.js';
import { Mailer } from './mailer.js';
import { RenderedHandler } from './rendered.handler.js';
import { SendEmailUseCase } from './send-email.usecase.js';
import { SendLedgerRepository } from './send-ledger.repository.js';

@Module({
  imports: [DecisionsModule, DeferralsModule],
  controllers: [RenderedHandler],
  providers: [
    Mailer,
    DomainThrottle,
    EmailComposer,
    SendLedgerRepository,
    DeliveryAnnouncer,
    DecisionOutcomes,
    ReplaySend,
    SmtpFailures,
    AttemptSend,
    SendEmailUseCase,
  ],
  exports: [SendLedgerRepository, SendEmailUseCase, DeliveryAnnouncer],
})
export class SendingModule {}
