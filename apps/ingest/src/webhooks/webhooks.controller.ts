import { Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { type SourceRequest } from '../sources/write-key.guard.js';
import { type RawBodyRequest } from './raw-body.wiring.js';
import { ReceiveWebhookUseCase } from './receive-webhook.usecase.js';
import { SIGNATURE_HEADER } from './webhook-signature.js';
import { WebhookSignatureGuard } from './webhook-signature.guard.js';

/** Signed webhooks from a source's systems (shops, CRMs), read with the source's mapping. */
@Controller('webhooks')
@UseGuards(WebhookSignatureGuard)
export class WebhooksController {
  constructor(private readonly receive: ReceiveWebhookUseCase) {}

  @Post(':sourceId')
  @HttpCode(200)
  webhook(@Req() request: SourceRequest & RawBodyRequest): Promise<{ success: true; events: number }> {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    return this.receive.execute({
      source: request.source!,
      headers,
      signature: headers[SIGNATURE_HEADER] ?? '',
      rawBody: request.rawBody ?? Buffer.alloc(0),
      body: request.body,
      receivedAt: new Date(),
    });
  }
}
