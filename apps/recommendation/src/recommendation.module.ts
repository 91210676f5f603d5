import { type DynamicModule, Module } from '@nestjs/common';
import { ServiceCoreModule } from '@mesh/runtime';
import { CatalogModule } from './catalog/catalog.module.js';
import { RecommendationEnv } from './config.js';
import { EvaluationModule } from './evaluation/evaluation.controller.js';
import { PrivacyModule } from './privacy/erase.handler.js';
import { PropensityModule } from './propensity/propensity.module.js';
import { RecommendingModule } from './recommending/recommending.module.js';
import { ChangeNotices } from '@mesh/storage';
import { SignalsModule } from './signals/signals.module.js';

@Module({})
class RecommendationEnvModule {}

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
        {
          module: RecommendationEnvModule,
          global: true,
          providers: [{ provide: RecommendationEnv, useValue: env }, ChangeNotices],
          exports: [RecommendationEnv, ChangeNotices],
        },
        SignalsModule,
        PropensityModule,
        CatalogModule,
        RecommendingModule,
        PrivacyModule,
        EvaluationModule,
      ],
    };
  }
}
