import { Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { SourceRateLimitGuard } from '../rate-limit/source-rate-limit.guard.js';
import { type SourceRequest } from '../sources/write-key.guard.js';
import { type RawBodyRequest } from './raw-body.wiring.js';
import { ReceiveWebhookUseCase } from './receive-webhook.usecase.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook-signature.js';
import { WebhookSignatureGuard } from './webhook-signature.guard.js';

/** Signed webhooks from a source's systems (shops, CRMs), read with the source's mapping. */
@ApiTags('webhooks')
@Controller('webhooks')
@UseGuards(WebhookSignatureGuard, SourceRateLimitGuard)
export class WebhooksController {
  constructor(private readonly receive: ReceiveWebhookUseCase) {}

  @Post(':sourceId')
  @HttpCode(200)
  @ApiOperation({
    summary: 'A signed webhook, mapped to track/identify calls by the source’s webhookMapping',
    description:
      '401 for an unknown or disabled source, a stale timestamp or a bad signature; 409 for a replayed ' +
      'signature; 422 when the mapped call is not valid (fields named events.N.field). The topic comes ' +
      'from the mapping’s header (x-shopify-topic, x-wc-webhook-topic) or x-mesh-topic; retries are ' +
      'recognized by the sender’s delivery id (x-shopify-webhook-id, x-wc-webhook-delivery-id, ' +
      'x-mesh-delivery-id) or, without one, the body’s hash.',
  })
  @ApiParam({ name: 'sourceId' })
  @ApiHeader({
    name: TIMESTAMP_HEADER,
    required: true,
    description: 'Unix seconds; within 300 s of the server clock',
  })
  @ApiHeader({
    name: SIGNATURE_HEADER,
    required: true,
    description:
      'v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>"> with the webhook secret (comma-separated for several)',
  })
  @ApiBody({ schema: { type: 'object', description: 'the sender’s JSON, as sent' } })
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
