import { Module } from '@nestjs/common';
import { Mailer } from './mailer.js';
import { RenderedHandler } from './rendered.handler.js';
import { SendEmailUseCase } from './send-email.usecase.js';
import { SendLedgerRepository } from './send-ledger.repository.js';

@Module({
  controllers: [RenderedHandler],
  providers: [Mailer, SendLedgerRepository, SendEmailUseCase],
  exports: [SendLedgerRepository, SendEmailUseCase],
})
export class SendingModule {}
