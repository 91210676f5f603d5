import { type DynamicModule, Module } from '@nestjs/common';
import { RendererEnv } from '../config.js';
import { DemoTemplateSeeder } from './demo-template.seeder.js';
import { TemplatesRepository } from './templates.repository.js';

@Module({})
export class TemplatesModule {
  static forRoot(env: RendererEnv): DynamicModule {
    return {
      module: TemplatesModule,
      global: true,
      providers: [{ provide: RendererEnv, useValue: env }, TemplatesRepository, DemoTemplateSeeder],
      exports: [TemplatesRepository],
    };
  }
}
