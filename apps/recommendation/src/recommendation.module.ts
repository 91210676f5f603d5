import { type DynamicModule, Module } from '@nestjs/common';
import { ServiceCoreModule } from '@mesh/runtime';
import { CatalogModule } from './catalog/catalog.module.js';
import { RecommendationEnv } from './config.js';
import { RecommendingModule } from './recommending/recommending.module.js';

@Module({})
export class RecommendationModule {
  static forRoot(env: RecommendationEnv): DynamicModule {
    return {
      module: RecommendationModule,
      imports: [
        ServiceCoreModule.forRoot({
          service: 'recommendation',
          env,
          mongoUrl: env.MONGO_URL,
          redisUrl: env.REDIS_URL,
        }),
        CatalogModule,
        RecommendingModule,
      ],
    };
  }
}
