import { IsMongoUrl, ServiceEnv } from '@mesh/config';

export class IdentityEnv extends ServiceEnv {
  override PORT = 3002;

  @IsMongoUrl() MONGO_URL = 'mongodb://127.0.0.1:27017/identity';
}
