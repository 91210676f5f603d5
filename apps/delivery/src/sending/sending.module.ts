import { type DynamicModule, Module } from '@nestjs/common';
import { DeliveryEnv } from '../config.js';
import { Mailer } from './mailer.js';
import { RenderedHandler } from './rendered.handler.js';
import { SendEmailUseCase } from './send-email.usecase.js';
import { SendLedgerRepository } from './send-ledger.repository.js';

@Module({})
export class SendingModule {
  static forRoot(env: DeliveryEnv): DynamicModule {
    return {
      module: SendingModule,
      controllers: [RenderedHandler],
      providers: [{ provide: DeliveryEnv, useValue: env }, Mailer, SendLedgerRepository, SendEmailUseCase],
    };
  }
}
