import { type DynamicModule, Module } from '@nestjs/common';
import { RendererEnv } from '../config.js';
import { TemplateEngine } from '../rendering/template-engine.js';
import { DemoTemplateSeeder } from './demo-template.seeder.js';
import { PartialsController } from './partials.controller.js';
import { PartialsRepository } from './partials.repository.js';
import { PublishTemplateUseCase } from './publish-template.usecase.js';
import { TemplatesController } from './templates.controller.js';
import { TemplatesRepository } from './templates.repository.js';

@Module({})
export class TemplatesModule {
  static forRoot(env: RendererEnv): DynamicModule {
    return {
      module: TemplatesModule,
      global: true,
      controllers: [TemplatesController, PartialsController],
      providers: [
        { provide: RendererEnv, useValue: env },
        TemplatesRepository,
        PartialsRepository,
        PublishTemplateUseCase,
        TemplateEngine,
        DemoTemplateSeeder,
      ],
      exports: [RendererEnv, TemplatesRepository, PartialsRepository, TemplateEngine],
    };
  }
}
