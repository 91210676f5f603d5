import { type DynamicModule, Module } from '@nestjs/common';
import { IngestEnv } from '../config.js';
import { DemoSourceSeeder } from './demo-source.seeder.js';
import { SourcesRepository } from './sources.repository.js';
import { WriteKeyGuard } from './write-key.guard.js';

@Module({})
export class SourcesModule {
  static forRoot(env: IngestEnv): DynamicModule {
    return {
      module: SourcesModule,
      global: true,
      providers: [{ provide: IngestEnv, useValue: env }, SourcesRepository, WriteKeyGuard, DemoSourceSeeder],
      exports: [SourcesRepository, WriteKeyGuard],
    };
  }
}
