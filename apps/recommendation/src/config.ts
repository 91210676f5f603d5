import { IsInt, Max, Min } from 'class-validator';
import { IsMongoUrl, IsRedisUrl, ServiceEnv } from '@mesh/config';

export class RecommendationEnv extends ServiceEnv {
  override PORT: number = 3004;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/recommendation';

  @IsRedisUrl() REDIS_URL: string = 'redis://127.0.0.1:6379';

  /**
   * How long the id of each recorded product event is kept, so a redelivered message counts once. It
   * needs to outlast JetStream's redeliveries (with the mesh's settings, 5 deliveries within about 8
   * minutes while a replica runs), not the signals' 30-day window: each id is a Redis key (~83 bytes),
   * so at 1,000 product events a second an hour's ids take ~300 MB and 30 days' would take ~215 GB. A
   * message redelivered later (all replicas down for longer, between its effect and its ack) counts
   * twice: one more view in signals that are statistical and decay anyway.
   */
  @IsInt() @Min(60) @Max(30 * 86_400) RECOMMENDATION_DEDUP_SECONDS: number = 3_600;

  /** Minutes between scheduled propensity trainings; 0 turns the schedule off (on demand only). */
  @IsInt() @Min(0) @Max(525_600) PROPENSITY_TRAIN_EVERY_MINUTES: number = 1440;
}
