import { type DynamicModule, Module } from '@nestjs/common';
import { ServiceCoreModule } from '@mesh/runtime';
import { emailRules, extractionOptions, fuzzySettings, IdentityEnv, identityRules } from './config.js';
import { DuplicatesModule } from './duplicates/duplicates.module.js';
import { ErasureModule } from './erasure/erasure.module.js';
import { GraphModule } from './resolution/graph.module.js';
import { ProfilesModule } from './profiles/profiles.module.js';
import { SplitsModule } from './splits/splits.module.js';
import { ResolutionModule } from './resolution/resolution.module.js';

@Module({})
export class IdentityModule {
  static forRoot(env: IdentityEnv): DynamicModule {
    return {
      module: IdentityModule,
      imports: [
        ServiceCoreModule.forRoot({
          service: 'identity',
          env,
          mongoUrl: env.MONGO_URL,
          redisUrl: env.REDIS_URL,
        }),
        GraphModule.forRoot(env.IDENTITY_CACHE_TTL_SECONDS, emailRules(env)),
        ResolutionModule.forRoot(extractionOptions(env), identityRules(env)),
        ProfilesModule.forRoot(),
        SplitsModule.forRoot(),
        DuplicatesModule.forRoot(fuzzySettings(env), identityRules(env)),
        ErasureModule,
      ],
    };
  }
}
