import { BooleanFromEnv, IsMongoUrl, IsRedisUrl, ServiceEnv } from '@mesh/config';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsInt, Max, Min } from 'class-validator';

export class EnrichmentEnv extends ServiceEnv {
  override PORT: number = 3003;
  /**
   * Handler slots per consumer. Profile versions are written in group commits, so the more events in
   * flight the larger (and cheaper per event) each commit: 256 held 1,000 events/s in bench/enrichment.
   */
  override MESSAGING_CONCURRENCY: number = 256;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/enrichment';

  /** Campaign timers, profile snapshots and third-party lookups (keys prefixed `enrichment:`). */
  @IsRedisUrl() REDIS_URL: string = 'redis://127.0.0.1:6379';

  /** Days of orders the recency/frequency/monetary attributes look at. */
  @IsInt() @Min(1) @Max(3650) RFM_WINDOW_DAYS: number = 365;

  /**
   * RFM windows, in days, comma-separated ("30,90,365"): frequency, monetary and their scores per
   * window in `computed.rfm_windows` (`{"30d": {...}}`), RFM_WINDOW_DAYS's among them.
   */
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((part) => part.trim())
          .filter(Boolean)
          .map(Number)
      : value,
  )
  @IsArray()
  @ArrayMaxSize(8)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(3650, { each: true })
  RFM_WINDOWS_DAYS: number[] = [30, 90, 365];

  /** Half-life of the engagement score (opens and clicks), in days. */
  @IsInt() @Min(1) @Max(365) ENGAGEMENT_HALF_LIFE_DAYS: number = 14;

  /** Half-life of category affinity (views, adds, purchases), in days. */
  @IsInt() @Min(1) @Max(365) AFFINITY_HALF_LIFE_DAYS: number = 30;

  /** How often due campaign timers are looked for, in milliseconds. */
  @IsInt() @Min(10) @Max(60_000) CAMPAIGN_TIMER_POLL_MS: number = 1_000;

  /** Seeds the demo campaign (local runtime and demos). */
  @BooleanFromEnv() @IsBoolean() MESH_DEMO: boolean = false;

  /** The demo cart reminder's wait (0: it sends at once, so the demo answers in seconds). */
  @IsInt() @Min(0) @Max(86_400) MESH_DEMO_CART_WAIT_SECONDS: number = 0;
}
