import { BooleanFromEnv, IsMongoUrl, ServiceEnv } from '@mesh/config';
import { IsBoolean } from 'class-validator';

export class RendererEnv extends ServiceEnv {
  override PORT = 3005;

  @IsMongoUrl() MONGO_URL = 'mongodb://127.0.0.1:27017/renderer';

  /** Seeds the demo template (local runtime and demos). */
  @BooleanFromEnv() @IsBoolean() MESH_DEMO = false;
}
