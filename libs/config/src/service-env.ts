import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength } from 'class-validator';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Turns "true"/"1"/"yes" into true and "false"/"0"/"no" into false; anything else stays to fail validation. */
export const BooleanFromEnv = () =>
  // Reads the raw text: implicit conversion would already have turned "false" into true.
  Transform(({ obj, key }: { obj: Record<string, unknown>; key: string }) => {
    const raw = obj[key];
    if (typeof raw === 'boolean') return raw;
    const text = String(raw).trim().toLowerCase();
    if (['true', '1', 'yes'].includes(text)) return true;
    if (['false', '0', 'no'].includes(text)) return false;
    return raw;
  });

/**
 * Variables every service reads. Each app's EnvDto extends this with its own. Every field has an
 * explicit type: the conversion from text reads it from the decorator metadata.
 */
export class ServiceEnv {
  @IsInt() @Min(0) @Max(65535) PORT!: number;

  @IsIn(LOG_LEVELS) LOG_LEVEL: LogLevel = 'info';

  @Matches(/^(nats|tls|wss?):\/\/[^\s]+(,(nats|tls|wss?):\/\/[^\s]+)*$/, {
    message: 'NATS_URL must be one or more nats:// URLs separated by commas',
  })
  NATS_URL: string = 'nats://127.0.0.1:4222';

  /** NATS user of this service (k8s: one user per service, allowed only its own subjects). */
  @IsOptional() @IsString() @MinLength(1) NATS_USER?: string;

  /** Password of NATS_USER. */
  @IsOptional() @IsString() @MinLength(1) NATS_PASSWORD?: string;

  /** Replicas of each stream this service provisions (3 in production, 1 locally). */
  @IsInt() @Min(1) @Max(5) NATS_STREAM_REPLICAS: number = 1;

  /** Cap on each stream's size in bytes (JetStream reserves it against its storage). */
  @IsInt() @Min(1024 * 1024) NATS_STREAM_MAX_BYTES: number = 1024 ** 3;

  /** Deliveries of one message before it is dead-lettered. */
  @IsInt() @Min(1) @Max(100) MESSAGING_MAX_DELIVER: number = 5;

  /** Unacknowledged messages one consumer may have out, over all replicas (nak-ed ones included). */
  @IsInt() @Min(1) @Max(1_000_000) MESSAGING_MAX_ACK_PENDING: number = 10_000;

  /** Handlers a consumer runs at once. */
  @IsInt() @Min(1) @Max(1024) MESSAGING_CONCURRENCY: number = 64;

  @IsString()
  @MinLength(16, { message: 'MESH_ADMIN_TOKEN must be at least 16 characters' })
  MESH_ADMIN_TOKEN!: string;

  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
}

export const IsMongoUrl = () =>
  Matches(/^mongodb(\+srv)?:\/\/[^\s]+$/, { message: 'MONGO_URL must be a mongodb:// URL' });

export const IsRedisUrl = () =>
  Matches(/^rediss?:\/\/[^\s]+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' });
