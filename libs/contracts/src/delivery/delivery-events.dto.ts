import { IsEmail, IsIn, IsISO8601, IsNumber, IsOptional, IsString, IsUrl, Length } from 'class-validator';

/** Which email an outcome is about: at most one per (campaign, profile, trigger key). */
export abstract class DeliveryRefPayload {
  @IsString() @Length(1, 128) campaignId!: string;
  @IsString() @Length(1, 256) triggerKey!: string;
  /** The A/B variant the email was rendered for, when the campaign has variants. */
  @IsOptional() @IsString() @Length(1, 64) variant?: string;
  /** The send's ledger key (also in its Message-ID), the same on every event about one email. */
  @IsOptional() @IsString() @Length(1, 128) sendId?: string;
}

export class DeliverySentPayload extends DeliveryRefPayload {
  @IsEmail() to!: string;
  @IsString() @Length(1, 998) smtpMessageId!: string;
  @IsString() @Length(1, 128) templateId!: string;
  @IsISO8601({ strict: true }) sentAt!: string;
}

export const SKIP_REASONS = [
  'no_email',
  'no_consent',
  'suppressed',
  'frequency_capped',
  'duplicate',
  'erased',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export class DeliverySkippedPayload extends DeliveryRefPayload {
  @IsIn(SKIP_REASONS) reason!: SkipReason;
  /** More precisely why, e.g. `hard_bounce` for `suppressed`, `daily_cap` for `frequency_capped`. */
  @IsOptional() @IsString() @Length(1, 64) detail?: string;
}

export const DEFER_REASONS = ['quiet_hours', 'smtp_retry'] as const;
export type DeferReason = (typeof DEFER_REASONS)[number];

export class DeliveryDeferredPayload extends DeliveryRefPayload {
  @IsISO8601({ strict: true }) until!: string;
  /** A machine-readable code (DEFER_REASONS): `quiet_hours`, or `smtp_retry` after a 4xx reply. */
  @IsString() @Length(1, 256) reason!: string;
}

export class DeliveryFailedPayload extends DeliveryRefPayload {
  @IsString() @Length(1, 2048) error!: string;
}

export class DeliveryBouncedPayload extends DeliveryRefPayload {
  @IsEmail() to!: string;
  @IsIn(['hard', 'soft']) kind!: 'hard' | 'soft';
  @IsString() @Length(1, 2048) diagnostic!: string;
}

export class DeliveryComplainedPayload extends DeliveryRefPayload {
  @IsEmail() to!: string;
}

export class DeliveryOpenedPayload extends DeliveryRefPayload {}

export class DeliveryClickedPayload extends DeliveryRefPayload {
  @IsUrl({ require_tld: false }) url!: string;
}

export class DeliveryUnsubscribedPayload extends DeliveryRefPayload {
  @IsIn(['email']) channel!: 'email';
}

export class DeliveryConvertedPayload extends DeliveryRefPayload {
  @IsString() @Length(1, 256) orderId!: string;
  @IsNumber() revenue!: number;
  @IsString() @Length(3, 3) currency!: string;
  @IsOptional() @IsISO8601({ strict: true }) clickedAt?: string;
  /** What the order was credited to (last touch): the email's click, its open, or its sending. */
  @IsOptional() @IsIn(['click', 'open', 'send']) touch?: 'click' | 'open' | 'send';
  /** When that touch happened. */
  @IsOptional() @IsISO8601({ strict: true }) touchedAt?: string;
}
