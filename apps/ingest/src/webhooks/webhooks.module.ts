import { Module } from '@nestjs/common';
import { TrackingModule } from '../tracking/tracking.module.js';
import { RawBodyWiring } from './raw-body.wiring.js';
import { ReceiveWebhookUseCase } from './receive-webhook.usecase.js';
import { WebhookReplaysRepository } from './webhook-replays.repository.js';
import { WebhookSignatureGuard } from './webhook-signature.guard.js';
import { WebhooksController } from './webhooks.controller.js';

@Module({
  imports: [TrackingModule],
  controllers: [WebhooksController],
  providers: [RawBodyWiring, ReceiveWebhookUseCase, WebhookReplaysRepository, WebhookSignatureGuard],
})
export class WebhooksModule {}
