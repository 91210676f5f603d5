import { BooleanFromEnv, IsMongoUrl, ServiceEnv } from '@mesh/config';
import { IsBoolean } from 'class-validator';

export class EnrichmentEnv extends ServiceEnv {
  override PORT: number = 3003;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/enrichment';

  /** Seeds the demo campaign (local runtime and demos). */
  @BooleanFromEnv() @IsBoolean() MESH_DEMO: boolean = false;
}
