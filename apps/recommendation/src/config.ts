import { IsInt, Max, Min } from 'class-validator';
import { IsMongoUrl, IsRedisUrl, ServiceEnv } from '@mesh/config';

export class RecommendationEnv extends ServiceEnv {
  override PORT: number = 3004;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/recommendation';

  @IsRedisUrl() REDIS_URL: string = 'redis://127.0.0.1:6379';

  /** Minutes between scheduled propensity trainings; 0 turns the schedule off (on demand only). */
  @IsInt() @Min(0) @Max(525_600) PROPENSITY_TRAIN_EVERY_MINUTES: number = 1440;
}
