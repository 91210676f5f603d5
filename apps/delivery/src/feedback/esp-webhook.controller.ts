import { Body, Controller, HttpCode, Inject, Logger, Post, Req } from '@nestjs/common';
import { fieldErrors, invalidRequest, validatedBody } from '@mesh/runtime';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { type FastifyRequest } from 'fastify';
import { type KeyObject } from 'node:crypto';
import { Clock } from '../clock.js';
import { DeliveryEnv } from '../config.js';
import { EspWebhookDto, MailgunWebhookDto, SendgridEventDto } from './esp-webhook.dto.js';
import {
  type FeedbackEvent,
  type FeedbackKind,
  RecordFeedbackUseCase,
  sendIdOfMessageId,
} from './record-feedback.usecase.js';
import { sendgridKey, verifyGeneric, verifyMailgun, verifySendgrid } from './webhook-signatures.js';
import { off, type Received, recordAll, unsigned } from './webhook-answers.js';

/** Events one SendGrid call may carry (SendGrid posts batches of up to about a thousand). */
const MAX_SENDGRID_EVENTS = 5_000;

/** The request body as received, kept by the JSON parser (see http-wiring.ts) for signatures. */
type WithRawBody = FastifyRequest & { rawBody?: string };

/**
 * Bounce and complaint reports from the ESP: a generic signed JSON format, Mailgun's webhooks and
 * SendGrid's Event Webhook. Signatures are checked on the raw body before anything in it is believed;
 * 200 only after the effects are durable, so an ESP retrying after an error never loses a report.
 */
@Controller('webhooks')
export class EspWebhookController {
  private readonly logger = new Logger(EspWebhookController.name);
  private readonly sendgrid?: KeyObject;

  constructor(
    private readonly feedback: RecordFeedbackUseCase,
    private readonly clock: Clock,
    @Inject(DeliveryEnv) private readonly env: DeliveryEnv,
  ) {
    if (env.SENDGRID_WEBHOOK_PUBLIC_KEY) {
      try {
        this.sendgrid = sendgridKey(env.SENDGRID_WEBHOOK_PUBLIC_KEY);
      } catch {
        throw new Error(
          'SENDGRID_WEBHOOK_PUBLIC_KEY is not a public key: set it to the "Verification Key" SendGrid shows for the Event Webhook',
        );
      }
    }
  }

  /** `Mesh-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; body `{ events: [...] }`. */
  @Post('esp')
  @HttpCode(200)
  async generic(@Req() request: WithRawBody, @Body() body: unknown): Promise<Received> {
    const secret = this.env.DELIVERY_WEBHOOK_SECRET;
    if (!secret) throw off('DELIVERY_WEBHOOK_SECRET');
    const header = request.headers['mesh-signature'];
    const signature = Array.isArray(header) ? header[0] : header;
    if (!verifyGeneric(secret, signature, request.rawBody ?? '', this.clock.now(), this.tolerance))
      throw unsigned();
    const { events } = validatedBody(EspWebhookDto, body);
    return this.apply(
      events.map((event) => ({
        provider: 'generic',
        eventId: event.id,
        kind:
          event.type === 'bounce'
            ? event.bounceType === 'hard'
              ? 'hard_bounce'
              : 'soft_bounce'
            : event.type,
        email: event.email,
        ...(sendIdOfMessageId(event.messageId) ? { sendId: sendIdOfMessageId(event.messageId)! } : {}),
        occurredAt: new Date(event.occurredAt),
        ...(event.diagnostic ? { diagnostic: event.diagnostic } : {}),
      })),
    );
  }

  /**
   * Mailgun's webhooks (`failed` permanent → hard bounce, `failed` temporary → soft bounce,
   * `complained`, `delivered`; other events are acknowledged and ignored — tracking is our own).
   */
  @Post('mailgun')
  @HttpCode(200)
  async mailgun(@Body() body: unknown): Promise<Received> {
    const key = this.env.MAILGUN_WEBHOOK_SIGNING_KEY;
    if (!key) throw off('MAILGUN_WEBHOOK_SIGNING_KEY');
    const signature = (body as { signature?: unknown } | undefined)?.signature as
      { timestamp?: unknown; token?: unknown; signature?: unknown } | undefined;
    const { timestamp, token, signature: mac } = signature ?? {};
    if (typeof timestamp !== 'string' || typeof token !== 'string' || typeof mac !== 'string')
      throw unsigned();
    if (!verifyMailgun(key, { timestamp, token, signature: mac }, this.clock.now(), this.tolerance))
      throw unsigned();
    const data = validatedBody(MailgunWebhookDto, body, { forbidUnknown: false })['event-data'];
    const kind = mailgunKind(data.event, data.severity);
    if (!kind) return { received: 1, applied: 0, duplicates: 0, ignored: 1 };
    const status = data['delivery-status'];
    const diagnostic = [status?.code, status?.message || status?.description, data.reason]
      .filter((part) => (typeof part === 'string' ? part !== '' : typeof part === 'number'))
      .join(' ');
    const messageId = data.message?.headers?.['message-id'];
    const sendId = sendIdOfMessageId(typeof messageId === 'string' ? messageId : undefined);
    return this.apply([
      {
        provider: 'mailgun',
        eventId: data.id,
        kind,
        email: data.recipient,
        ...(sendId ? { sendId } : {}),
        occurredAt: new Date(Math.round(data.timestamp * 1000)),
        ...(diagnostic ? { diagnostic } : {}),
      },
    ]);
  }

  /**
   * SendGrid's Event Webhook (signed): `bounce` → hard bounce (`type: blocked` → soft), `spamreport` →
   * complaint, `delivered`; other events are acknowledged and ignored, and so is an event missing the
   * fields we need (refusing the batch would have SendGrid retry it, whole, for a day).
   */
  @Post('sendgrid')
  @HttpCode(200)
  async sendgridEvents(@Req() request: WithRawBody, @Body() body: unknown): Promise<Received> {
    if (!this.sendgrid) throw off('SENDGRID_WEBHOOK_PUBLIC_KEY');
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const signed = verifySendgrid(
      this.sendgrid,
      header('x-twilio-email-event-webhook-signature'),
      header('x-twilio-email-event-webhook-timestamp'),
      request.rawBody ?? '',
      this.clock.now(),
      this.tolerance,
    );
    if (!signed) throw unsigned();
    if (!Array.isArray(body) || body.length > MAX_SENDGRID_EVENTS)
      throw invalidRequest({ body: [`must be an array of at most ${MAX_SENDGRID_EVENTS} events`] });
    const events: FeedbackEvent[] = [];
    for (const [index, raw] of body.entries()) {
      const event = plainToInstance(SendgridEventDto, raw ?? {});
      const errors =
        typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? validateSync(event) : undefined;
      if (!errors || errors.length > 0) {
        const why = errors ? JSON.stringify(fieldErrors(errors)) : 'not an object';
        this.logger.warn(`SendGrid event ${index} ignored: ${why}`);
        continue;
      }
      const kind = sendgridKind(event.event, event.type);
      if (!kind) continue;
      const sendId = sendIdOfMessageId(event['smtp-id']);
      const diagnostic = [event.status, event.reason]
        .filter((part) => part !== undefined && part !== '')
        .join(' ');
      events.push({
        provider: 'sendgrid',
        eventId: event.sg_event_id,
        kind,
        email: event.email,
        ...(sendId ? { sendId } : {}),
        occurredAt: new Date(Math.round(event.timestamp * 1000)),
        ...(diagnostic ? { diagnostic } : {}),
      });
    }
    const applied = await this.apply(events);
    return { ...applied, received: body.length, ignored: body.length - events.length };
  }

  private get tolerance(): number {
    return this.env.DELIVERY_WEBHOOK_TOLERANCE_SECONDS;
  }

  private apply(events: FeedbackEvent[]): Promise<Received> {
    return recordAll(this.feedback, events);
  }
}

function mailgunKind(event: string, severity: string | undefined): FeedbackKind | undefined {
  if (event === 'failed') return severity === 'temporary' ? 'soft_bounce' : 'hard_bounce';
  if (event === 'complained') return 'complaint';
  if (event === 'delivered') return 'delivered';
  return undefined;
}

function sendgridKind(event: string, type: string | undefined): FeedbackKind | undefined {
  if (event === 'bounce') return type === 'blocked' ? 'soft_bounce' : 'hard_bounce';
  if (event === 'spamreport') return 'complaint';
  if (event === 'delivered') return 'delivered';
  return undefined;
}
