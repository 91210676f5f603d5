import {
  BadGatewayException,
  BadRequestException,
  Controller,
  ForbiddenException,
  HttpCode,
  Inject,
  Logger,
  Post,
  Req,
  ServiceUnavailableException,
} from '@nestjs/common';
import { invalidRequest, validatedBody } from '@mesh/runtime';
import { type FastifyRequest } from 'fastify';
import { DeliveryEnv } from '../config.js';
import { SesNotificationDto, SnsMessageDto } from './esp-webhook.dto.js';
import {
  type FeedbackEvent,
  type FeedbackKind,
  RecordFeedbackUseCase,
  sendIdOfMessageId,
} from './record-feedback.usecase.js';
import { SnsCertificates } from './sns-certificates.js';
import { off, type Received, recordAll, unsigned } from './webhook-answers.js';
import { isAwsSnsUrl, verifySns } from './webhook-signatures.js';

const CONFIRM_TIMEOUT_MS = 5_000;

/**
 * Amazon SES bounces, complaints and deliveries, through an SNS topic's HTTPS subscription. A message
 * is believed only from a configured topic and with a valid signature from an AWS SNS certificate; a
 * subscription to such a topic is confirmed on its own. 200 only after the effects are durable: SNS
 * retries anything else, and a redelivered report counts once (its feedback id and recipient).
 */
@Controller('webhooks')
export class SesWebhookController {
  private readonly logger = new Logger(SesWebhookController.name);
  private readonly topics: Set<string>;

  constructor(
    private readonly feedback: RecordFeedbackUseCase,
    private readonly certificates: SnsCertificates,
    @Inject(DeliveryEnv) env: DeliveryEnv,
  ) {
    this.topics = new Set(env.SES_SNS_TOPIC_ARNS?.split(',') ?? []);
  }

  @Post('ses')
  @HttpCode(200)
  async ses(@Req() request: FastifyRequest & { rawBody?: string }): Promise<Received | { confirmed: true }> {
    if (this.topics.size === 0) throw off('SES_SNS_TOPIC_ARNS');
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody ?? '');
    } catch {
      throw invalidRequest({ body: ['must be JSON'] }, 'the body is not an SNS message (JSON)');
    }
    const message = validatedBody(SnsMessageDto, body, { forbidUnknown: false });
    if (!this.topics.has(message.TopicArn))
      throw new ForbiddenException({
        error: 'unknown_topic',
        message: `messages of ${message.TopicArn} are not taken; add it to SES_SNS_TOPIC_ARNS`,
      });
    if (!isAwsSnsUrl(message.SigningCertURL)) throw unsigned();
    const key = await this.certificates.key(message.SigningCertURL).catch((error: Error) => {
      this.logger.warn(`SNS certificate unavailable: ${error.message}`);
      throw new ServiceUnavailableException({
        error: 'certificate_unavailable',
        message: 'the SNS signing certificate could not be fetched; SNS will retry',
      });
    });
    if (!verifySns(message, key)) throw unsigned();

    if (message.Type === 'SubscriptionConfirmation') return this.confirm(message);
    if (message.Type !== 'Notification') return { received: 1, applied: 0, duplicates: 0, ignored: 1 };
    // Authentic but not an SES notification we can read (a console test message, a new format):
    // acknowledged and logged, since refusing it would only have SNS send it again.
    let notification: SesNotificationDto;
    try {
      notification = validatedBody(SesNotificationDto, JSON.parse(message.Message), { forbidUnknown: false });
    } catch (error) {
      this.logger.warn(`SNS message ${message.MessageId} ignored: ${describe(error)}`);
      return { received: 1, applied: 0, duplicates: 0, ignored: 1 };
    }
    const events = sesEvents(notification);
    const result = await recordAll(this.feedback, events);
    return events.length === 0 ? { ...result, received: 1, ignored: 1 } : result;
  }

  private async confirm(message: SnsMessageDto): Promise<{ confirmed: true }> {
    if (!isAwsSnsUrl(message.SubscribeURL)) throw unsigned();
    const response = await fetch(message.SubscribeURL!, {
      signal: AbortSignal.timeout(CONFIRM_TIMEOUT_MS),
    }).catch(() => undefined);
    if (!response?.ok)
      throw new BadGatewayException({
        error: 'confirmation_failed',
        message: 'SNS did not take the subscription confirmation; it will send it again',
      });
    this.logger.log(`subscribed to ${message.TopicArn}`);
    return { confirmed: true };
  }
}

/** One feedback event per recipient of an SES bounce, complaint or delivery notification. */
export function sesEvents(notification: SesNotificationDto): FeedbackEvent[] {
  const type = notification.notificationType ?? notification.eventType;
  const headers = notification.mail.headers ?? [];
  const messageId = headers.find((header) => header.name.toLowerCase() === 'message-id')?.value;
  const sendId = sendIdOfMessageId(messageId);
  const event = (
    eventId: string,
    kind: FeedbackKind,
    email: string,
    at: string,
    diagnostic?: string,
  ): FeedbackEvent => ({
    provider: 'ses',
    eventId,
    kind,
    email,
    ...(sendId ? { sendId } : {}),
    occurredAt: new Date(at),
    ...(diagnostic ? { diagnostic } : {}),
  });
  if (type === 'Bounce' && notification.bounce) {
    const { bounce } = notification;
    const kind = bounce.bounceType === 'Permanent' ? 'hard_bounce' : 'soft_bounce';
    return bounce.bouncedRecipients.map((recipient) =>
      event(
        `${bounce.feedbackId}:${recipient.emailAddress}`,
        kind,
        recipient.emailAddress,
        bounce.timestamp,
        recipient.diagnosticCode ?? recipient.status,
      ),
    );
  }
  if (type === 'Complaint' && notification.complaint) {
    const { complaint } = notification;
    return complaint.complainedRecipients.map((recipient) =>
      event(
        `${complaint.feedbackId}:${recipient.emailAddress}`,
        'complaint',
        recipient.emailAddress,
        complaint.timestamp,
      ),
    );
  }
  if (type === 'Delivery' && notification.delivery) {
    const { delivery } = notification;
    return delivery.recipients.map((email) =>
      event(`${notification.mail.messageId}:delivered:${email}`, 'delivered', email, delivery.timestamp),
    );
  }
  return [];
}

function describe(error: unknown): string {
  if (error instanceof BadRequestException) return JSON.stringify(error.getResponse());
  return error instanceof Error ? error.message : String(error);
}
