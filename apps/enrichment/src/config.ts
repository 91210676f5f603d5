import { BooleanFromEnv, IsMongoUrl, ServiceEnv } from '@mesh/config';
import { IsBoolean } from 'class-validator';

export class EnrichmentEnv extends ServiceEnv {
  override PORT = 3003;

  @IsMongoUrl() MONGO_URL = 'mongodb://127.0.0.1:27017/enrichment';

  /** Seeds the demo campaign (local runtime and demos). */
  @BooleanFromEnv() @IsBoolean() MESH_DEMO = false;
}
