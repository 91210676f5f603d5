import { IsMongoUrl, IsRedisUrl, ServiceEnv } from '@mesh/config';
import { IsInt, IsString, Matches, Max, Min, MinLength } from 'class-validator';

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
}
