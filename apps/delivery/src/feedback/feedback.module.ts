import { Module } from '@nestjs/common';
import { DecisionsModule } from '../decisions/decisions.module.js';
import { SendingModule } from '../sending/sending.module.js';
import { BounceSuppressionHandler } from './bounce-suppression.handler.js';
import { EspWebhookController } from './esp-webhook.controller.js';
import { FeedbackRepository } from './feedback.repository.js';
import { RecordFeedbackUseCase } from './record-feedback.usecase.js';
import { SesWebhookController } from './ses-webhook.controller.js';
import { SnsCertificates } from './sns-certificates.js';

/** What the ESP reports after the SMTP conversation: bounces, complaints, deliveries. */
@Module({
  imports: [SendingModule, DecisionsModule],
  controllers: [EspWebhookController, SesWebhookController, BounceSuppressionHandler],
  providers: [FeedbackRepository, RecordFeedbackUseCase, SnsCertificates],
  exports: [FeedbackRepository, RecordFeedbackUseCase],
})
export class FeedbackModule {}
