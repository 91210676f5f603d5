import { type DynamicModule, Module } from '@nestjs/common';
import { IngestEnv } from '../config.js';
import { DemoSourceSeeder } from './demo-source.seeder.js';
import { SecretBox } from './secret-box.js';
import { SourcesRepository } from './sources.repository.js';
import { WriteKeyGuard } from './write-key.guard.js';

@Module({})
export class SourcesModule {
  static forRoot(env: IngestEnv): DynamicModule {
    return {
      module: SourcesModule,
      global: true,
      providers: [
        { provide: IngestEnv, useValue: env },
        { provide: SecretBox, useValue: new SecretBox(env.INGEST_SECRET_KEY, env.MESH_ADMIN_TOKEN) },
        SourcesRepository,
        WriteKeyGuard,
        DemoSourceSeeder,
      ],
      exports: [IngestEnv, SecretBox, SourcesRepository, WriteKeyGuard],
    };
  }
}
