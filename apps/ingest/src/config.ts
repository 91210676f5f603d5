import { IsMongoUrl, ServiceEnv } from '@mesh/config';
import { IsOptional, IsString, MinLength } from 'class-validator';

export class IngestEnv extends ServiceEnv {
  override PORT: number = 3001;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/ingest';

  /** When set, a demo source with this write key exists (local runtime and demos). */
  @IsOptional() @IsString() @MinLength(16) MESH_DEMO_WRITE_KEY?: string;
}
