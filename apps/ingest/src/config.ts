import { SERVICES } from '@mesh/contracts';
import { IsMongoUrl, IsRedisUrl, ServiceEnv } from '@mesh/config';
import { Transform } from 'class-transformer';
import {
  ArrayMinSize,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';

export class IngestEnv extends ServiceEnv {
  override PORT: number = 3001;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/ingest';

  /** Message ids seen per source (dedup), rate-limit counters, webhook replay records (keys prefixed `ingest:`). */
  @IsRedisUrl() REDIS_URL: string = 'redis://127.0.0.1:6379';

  /**
   * Which calls of the tracking API (`/v1/*`) get a log line: `failures` (answers of 400 and up, the
   * default: a line per accepted event is volume without news) or `all` (every call, with the request
   * logger the other routes have; in bench/ingest that logger cost about 40 µs of CPU a call, at any LOG_LEVEL).
   */
  @IsIn(['failures', 'all']) INGEST_ACCESS_LOG: 'failures' | 'all' = 'failures';

  /** How long the same messageId from the same source is accepted only once. */
  @IsInt() @Min(1) @Max(24 * 30) INGEST_DEDUP_HOURS: number = 24;

  /** A request whose publish has no stream ack by then is answered 503 (the client retries). */
  @IsInt() @Min(100) @Max(120_000) INGEST_PUBLISH_DEADLINE_MS: number = 10_000;

  /** How often each replica reads the erasures and re-consents other replicas took (ms). */
  @IsInt() @Min(100) @Max(600_000) INGEST_ERASED_REFRESH_MS: number = 1_000;

  /** Publishes of batched calls (imports, /v1/batch, webhooks) in flight at once, per replica. */
  @IsInt() @Min(1) @Max(100_000) INGEST_PUBLISHES_IN_FLIGHT: number = 256;

  /** How long a replica holds a write key's source in memory (ms; 0: never). Changes through another replica show after it. */
  @IsInt() @Min(0) @Max(300_000) INGEST_SOURCE_CACHE_MS: number = 5_000;

  /** The services whose receipts complete an erasure (comma-separated; they hold personal data). */
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean)
      : value,
  )
  @ArrayMinSize(1)
  @IsIn(SERVICES, { each: true })
  INGEST_ERASING_SERVICES: string[] = ['identity', 'enrichment', 'recommendation', 'renderer', 'delivery'];

  /** When set, a demo source with this write key exists (local runtime and demos). */
  @IsOptional() @IsString() @MinLength(16) MESH_DEMO_WRITE_KEY?: string;

  /** 32 bytes as 64 hex digits: encrypts webhook secrets at rest (default: derived from MESH_ADMIN_TOKEN). */
  @IsOptional()
  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'INGEST_SECRET_KEY must be 64 hex digits (32 bytes)' })
  INGEST_SECRET_KEY?: string;

  /** How long a rotated write key or webhook secret keeps working, in seconds. */
  @IsInt() @Min(0) @Max(30 * 86_400) INGEST_KEY_ROTATION_GRACE_SECONDS: number = 86_400;

  /** Requests a second a source may send when it has no limit of its own. */
  @IsInt() @Min(1) @Max(1_000_000) INGEST_DEFAULT_RATE_LIMIT_PER_SECOND: number = 1_000;

  /** Refused write keys or signatures an IP may send a minute before all its calls get 429s. */
  @IsInt() @Min(1) @Max(1_000_000) INGEST_AUTH_FAILURES_PER_MINUTE_PER_IP: number = 60;
}
