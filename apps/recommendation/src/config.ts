import { IsMongoUrl, IsRedisUrl, ServiceEnv } from '@mesh/config';

export class RecommendationEnv extends ServiceEnv {
  override PORT = 3004;

  @IsMongoUrl() MONGO_URL = 'mongodb://127.0.0.1:27017/recommendation';

  @IsRedisUrl() REDIS_URL = 'redis://127.0.0.1:6379';
}
