import { IsMongoUrl, ServiceEnv } from '@mesh/config';

export class IdentityEnv extends ServiceEnv {
  override PORT: number = 3002;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/identity';
}
