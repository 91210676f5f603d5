import { BooleanFromEnv, IsMongoUrl, IsRedisUrl, ServiceEnv } from '@mesh/config';
import {
  IsBase64,
  IsBoolean,
  IsEmail,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';

export class DeliveryEnv extends ServiceEnv {
  override PORT: number = 3006;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/delivery';

  /** Frequency caps and per-domain throttles. */
  @IsRedisUrl() REDIS_URL: string = 'redis://127.0.0.1:6379';

  /** Where mail goes: the ESP's or MTA's SMTP endpoint (smtps:// for implicit TLS). */
  @Matches(/^smtps?:\/\/[^\s]+$/, { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
  SMTP_URL: string = 'smtp://127.0.0.1:2525';

  @IsString() @MinLength(3) MAIL_FROM: string = 'Personalization Mesh <mesh@localhost>';

  /** A send still `sending` this long after its claim (the process died mid-send) is marked for review. */
  @IsInt() @Min(1) @Max(86_400) DELIVERY_RECONCILE_AFTER_SECONDS: number = 300;

  /** How often the reconciler looks for such sends. */
  @IsInt() @Min(50) @Max(3_600_000) DELIVERY_RECONCILE_INTERVAL_MS: number = 30_000;

  /** Marketing email only to profiles that opted in; otherwise only an explicit opt-out stops it. */
  @BooleanFromEnv() @IsBoolean() DELIVERY_REQUIRE_OPT_IN: boolean = false;

  /** Emails of any campaign to one profile per rolling 24 h (0: no cap; a campaign's own cap may be lower). */
  @IsInt() @Min(0) @Max(1000) DELIVERY_CAP_PER_DAY: number = 0;

  /** Emails of one campaign to one profile per rolling 7 days (0: no cap). */
  @IsInt() @Min(0) @Max(1000) DELIVERY_CAP_PER_CAMPAIGN_WEEK: number = 0;

  /**
   * When caps collide: a capped marketing email (a daily cap applies) is held this long — together
   * with the other emails for the same profile arriving in the meantime — and the group is then
   * decided highest campaign priority first (0: no hold, first come first served).
   */
  @IsInt() @Min(0) @Max(600_000) DELIVERY_PRIORITY_WINDOW_MS: number = 2_000;

  /** Local quiet hours of the recipient, `HH:MM-HH:MM` (`off`: none); marketing email waits until they end. */
  @Matches(/^(off|\d{2}:\d{2}-\d{2}:\d{2})$/, {
    message: 'DELIVERY_QUIET_HOURS must look like 21:00-08:00 (or be off)',
  })
  DELIVERY_QUIET_HOURS: string = '21:00-08:00';

  /** Time zone for recipients without one; without it, quiet hours apply only where the zone is known. */
  @IsOptional() @IsString() DELIVERY_DEFAULT_TIMEZONE?: string;

  /** How often deferred sends that are due are looked for. */
  @IsInt() @Min(50) @Max(600_000) DELIVERY_DEFERRAL_POLL_MS: number = 5_000;

  /** Where recipients reach this service: the base of tracking and unsubscribe links. */
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  MESH_PUBLIC_URL: string = 'http://localhost:3006';

  /** Key of the HMAC that signs tracking and unsubscribe links (default: derived from MESH_ADMIN_TOKEN). */
  @IsOptional() @IsString() @MinLength(32) DELIVERY_TOKEN_SECRET?: string;

  /** The mailto: target of List-Unsubscribe (default: unsubscribe@ the sender's domain). */
  @IsOptional() @IsEmail() DELIVERY_UNSUBSCRIBE_MAILTO?: string;

  /** DKIM signing, when all three are set: the signing domain, the selector and the private key (PEM; `\n` allowed). */
  @IsOptional() @IsString() DKIM_DOMAIN?: string;
  @IsOptional() @IsString() DKIM_SELECTOR?: string;
  @IsOptional() @IsString() DKIM_PRIVATE_KEY?: string;

  /** Pooled SMTP connections. */
  @IsInt() @Min(1) @Max(100) SMTP_POOL_SIZE: number = 5;

  /** After a 4xx reply the send waits this long, doubled each attempt (durably, as a deferral). */
  @IsInt() @Min(1) @Max(86_400) DELIVERY_SMTP_RETRY_BASE_SECONDS: number = 60;

  /** Attempts after which a send still answered with 4xx counts as a soft bounce. */
  @IsInt() @Min(1) @Max(50) DELIVERY_SMTP_MAX_ATTEMPTS: number = 6;

  /** Emails per second to one recipient domain (0: no throttle). */
  @IsInt() @Min(0) @Max(100_000) DELIVERY_DOMAIN_RATE_PER_SECOND: number = 0;

  /** Secret of the generic ESP webhook (`POST /webhooks/esp`, HMAC-SHA256 over `timestamp.body`); unset: endpoint off. */
  @IsOptional() @IsString() @MinLength(16) DELIVERY_WEBHOOK_SECRET?: string;

  /** Mailgun's HTTP webhook signing key (`POST /webhooks/mailgun`); unset: endpoint off. */
  @IsOptional() @IsString() @MinLength(8) MAILGUN_WEBHOOK_SIGNING_KEY?: string;

  /**
   * SendGrid's Signed Event Webhook verification key (`POST /webhooks/sendgrid`): the base64 public key
   * SendGrid shows once "Signed Event Webhook" is on; unset: endpoint off.
   */
  @IsOptional() @IsBase64() @MinLength(64) SENDGRID_WEBHOOK_PUBLIC_KEY?: string;

  /**
   * Amazon SES feedback through SNS (`POST /webhooks/ses`): the topic ARNs, comma-separated, whose
   * messages are taken (their signatures checked against AWS's certificates); unset: endpoint off.
   */
  @IsOptional()
  @Matches(
    /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(,arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256})*$/,
    {
      message: 'SES_SNS_TOPIC_ARNS must be SNS topic ARNs separated by commas',
    },
  )
  SES_SNS_TOPIC_ARNS?: string;

  /** A webhook call signed longer ago (or further ahead) than this is refused as a possible replay. */
  @IsInt() @Min(10) @Max(86_400) DELIVERY_WEBHOOK_TOLERANCE_SECONDS: number = 300;

  /** Soft bounces of one address within the window that put it on the suppression list (0: never). */
  @IsInt() @Min(0) @Max(1000) DELIVERY_SOFT_BOUNCE_LIMIT: number = 3;

  @IsInt() @Min(1) @Max(365) DELIVERY_SOFT_BOUNCE_WINDOW_DAYS: number = 7;

  /**
   * Conversion attribution (last touch): an order is credited to the latest click of the profile within
   * this many hours before it, else the latest open within DELIVERY_ATTRIBUTION_OPEN_HOURS, else the
   * latest email sent within DELIVERY_ATTRIBUTION_SEND_HOURS (0: that touch does not count).
   */
  @IsInt() @Min(0) @Max(8760) DELIVERY_ATTRIBUTION_CLICK_HOURS: number = 120;
  @IsInt() @Min(0) @Max(8760) DELIVERY_ATTRIBUTION_OPEN_HOURS: number = 24;
  @IsInt() @Min(0) @Max(8760) DELIVERY_ATTRIBUTION_SEND_HOURS: number = 0;
}
