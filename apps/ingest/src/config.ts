import { SERVICES } from '@mesh/contracts';
import { IsMongoUrl, IsRedisUrl, ServiceEnv } from '@mesh/config';
import { Transform } from 'class-transformer';
import { ArrayMinSize, IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';

export class IngestEnv extends ServiceEnv {
  override PORT: number = 3001;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/ingest';

  /** Message ids seen per source (dedup), rate limits. */
  @IsRedisUrl() REDIS_URL: string = 'redis://127.0.0.1:6379';

  /** How long the same messageId from the same source is accepted only once. */
  @IsInt() @Min(1) @Max(24 * 30) INGEST_DEDUP_HOURS: number = 24;

  /** A request whose publish has no stream ack by then is answered 503 (the client retries). */
  @IsInt() @Min(100) @Max(120_000) INGEST_PUBLISH_DEADLINE_MS: number = 10_000;

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
  INGEST_ERASING_SERVICES: string[] = ['identity', 'enrichment', 'recommendation', 'delivery'];

  /** When set, a demo source with this write key exists (local runtime and demos). */
  @IsOptional() @IsString() @MinLength(16) MESH_DEMO_WRITE_KEY?: string;
}
