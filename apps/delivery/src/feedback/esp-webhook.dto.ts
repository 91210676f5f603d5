import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEmail,
  IsIn,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

/** One event of the generic webhook (documented in apps/delivery/README section of the repo README). */
export class EspEventDto {
  /** The ESP's id of the event; a redelivery carries the same id. */
  @IsString() @Length(1, 256) id!: string;
  @IsIn(['bounce', 'complaint', 'delivered']) type!: 'bounce' | 'complaint' | 'delivered';
  @ValidateIf((event: EspEventDto) => event.type === 'bounce')
  @IsIn(['hard', 'soft'])
  bounceType?: 'hard' | 'soft';
  @IsEmail() email!: string;
  /** The email's Message-ID as we sent it (`<sendKey@personalization-mesh>`, brackets optional). */
  @IsOptional() @IsString() @Length(1, 998) messageId?: string;
  @IsISO8601({ strict: true }) occurredAt!: string;
  @IsOptional() @IsString() @Length(1, 2048) diagnostic?: string;
}

export class EspWebhookDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => EspEventDto)
  events!: EspEventDto[];
}

export class MailgunSignatureDto {
  @IsString() @Length(1, 20) timestamp!: string;
  @IsString() @Length(1, 256) token!: string;
  @IsString() @Length(1, 256) signature!: string;
}

/** The fields of Mailgun's `event-data` we use (the rest of it is ignored). */
export class MailgunEventDataDto {
  @IsString() @Length(1, 256) id!: string;
  @IsString() @Length(1, 64) event!: string;
  @IsNumber() timestamp!: number;
  @IsOptional() @IsString() severity?: string;
  @IsOptional() @IsString() reason?: string;
  @IsEmail() recipient!: string;
  @IsOptional() @IsObject() message?: { headers?: Record<string, unknown> };
  @IsOptional() @IsObject() 'delivery-status'?: { code?: unknown; message?: unknown; description?: unknown };
}

export class MailgunWebhookDto {
  @IsObject() @ValidateNested() @Type(() => MailgunSignatureDto) signature!: MailgunSignatureDto;
  @IsObject() @ValidateNested() @Type(() => MailgunEventDataDto) 'event-data'!: MailgunEventDataDto;
}

/**
 * The fields of one SendGrid Event Webhook event we use (the rest, custom arguments included, is
 * ignored): https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event.
 */
export class SendgridEventDto {
  @IsString() @Length(1, 256) sg_event_id!: string;
  @IsString() @Length(1, 64) event!: string;
  @IsEmail() email!: string;
  @IsNumber() timestamp!: number;
  /** For a bounce: `bounce` (permanent) or `blocked` (temporary). */
  @IsOptional() @IsString() type?: string;
  /** The Message-ID the email was sent with (ours: `<sendKey@personalization-mesh>`). */
  @IsOptional() @IsString() @Length(1, 998) 'smtp-id'?: string;
  @IsOptional() @IsString() reason?: string;
  @IsOptional() @IsString() status?: string;
}

/** An Amazon SNS message as posted to an HTTPS subscription (the fields its signature covers). */
export class SnsMessageDto {
  @IsIn(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']) Type!: string;
  @IsString() @Length(1, 256) MessageId!: string;
  @IsString() @Length(1, 512) TopicArn!: string;
  @IsString() Message!: string;
  @IsISO8601() Timestamp!: string;
  @IsOptional() @IsString() Subject?: string;
  @IsOptional() @IsString() Token?: string;
  @IsOptional() @IsString() SubscribeURL?: string;
  @IsIn(['1', '2']) SignatureVersion!: string;
  @IsString() @Length(1, 4096) Signature!: string;
  @IsString() @Length(1, 2048) SigningCertURL!: string;
}

export class SesRecipientDto {
  @IsEmail() emailAddress!: string;
  @IsOptional() @IsString() diagnosticCode?: string;
  @IsOptional() @IsString() status?: string;
}

export class SesHeaderDto {
  @IsString() name!: string;
  @IsString() value!: string;
}

export class SesMailDto {
  @IsString() @Length(1, 256) messageId!: string;
  @IsISO8601() timestamp!: string;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => SesHeaderDto) headers?: SesHeaderDto[];
}

export class SesBounceDto {
  @IsString() bounceType!: string;
  @IsString() @Length(1, 256) feedbackId!: string;
  @IsISO8601() timestamp!: string;
  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => SesRecipientDto)
  bouncedRecipients!: SesRecipientDto[];
}

export class SesComplaintDto {
  @IsString() @Length(1, 256) feedbackId!: string;
  @IsISO8601() timestamp!: string;
  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => SesRecipientDto)
  complainedRecipients!: SesRecipientDto[];
}

export class SesDeliveryDto {
  @IsISO8601() timestamp!: string;
  @IsArray() @IsEmail({}, { each: true }) recipients!: string[];
}

/**
 * An SES notification (a feedback notification's `notificationType`, or an event destination's
 * `eventType`): https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html.
 */
export class SesNotificationDto {
  @IsOptional() @IsString() notificationType?: string;
  @IsOptional() @IsString() eventType?: string;
  @IsObject() @ValidateNested() @Type(() => SesMailDto) mail!: SesMailDto;
  @IsOptional() @ValidateNested() @Type(() => SesBounceDto) bounce?: SesBounceDto;
  @IsOptional() @ValidateNested() @Type(() => SesComplaintDto) complaint?: SesComplaintDto;
  @IsOptional() @ValidateNested() @Type(() => SesDeliveryDto) delivery?: SesDeliveryDto;
}
