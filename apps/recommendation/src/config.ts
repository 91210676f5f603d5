import { IsMongoUrl, IsRedisUrl, ServiceEnv } from '@mesh/config';

export class RecommendationEnv extends ServiceEnv {
  override PORT: number = 3004;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/recommendation';

  @IsRedisUrl() REDIS_URL: string = 'redis://127.0.0.1:6379';
}
