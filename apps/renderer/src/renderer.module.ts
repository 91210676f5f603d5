import { type DynamicModule, Module } from '@nestjs/common';
import { ServiceCoreModule } from '@mesh/runtime';
import { RendererEnv } from './config.js';
import { PreviewModule } from './preview/preview.module.js';
import { RenderingModule } from './rendering/rendering.module.js';
import { TemplatesModule } from './templates/templates.module.js';

@Module({})
export class RendererModule {
  static forRoot(env: RendererEnv): DynamicModule {
    return {
      module: RendererModule,
      imports: [
        ServiceCoreModule.forRoot({ service: 'renderer', env, mongoUrl: env.MONGO_URL }),
        TemplatesModule.forRoot(env),
        RenderingModule,
        PreviewModule,
      ],
    };
  }
}
