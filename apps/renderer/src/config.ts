import { BooleanFromEnv, IsMongoUrl, ServiceEnv } from '@mesh/config';
import { IsBoolean } from 'class-validator';

export class RendererEnv extends ServiceEnv {
  override PORT: number = 3005;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/renderer';

  /** Seeds the demo template (local runtime and demos). */
  @BooleanFromEnv() @IsBoolean() MESH_DEMO: boolean = false;
}
