import { type DynamicModule, Module } from '@nestjs/common';
import { ServiceCoreModule } from '@mesh/runtime';
import { CampaignsModule } from './campaigns/campaigns.module.js';
import { EnrichmentEnv } from './config.js';
import { DocsController } from './docs/docs.controller.js';
import { MergesModule } from './merges/merges.module.js';
import { PrivacyModule } from './privacy/privacy.module.js';
import { ProfileStoreModule } from './profiles/profile-store.module.js';
import { ProfilesModule } from './profiles/profiles.module.js';
import { SegmentsModule } from './segments/segments.module.js';

@Module({})
export class EnrichmentModule {
  static forRoot(env: EnrichmentEnv): DynamicModule {
    return {
      module: EnrichmentModule,
      controllers: [DocsController],
      imports: [
        ServiceCoreModule.forRoot({
          service: 'enrichment',
          env,
          mongoUrl: env.MONGO_URL,
          redisUrl: env.REDIS_URL,
        }),
        ProfileStoreModule.forRoot(env),
        SegmentsModule,
        CampaignsModule,
        ProfilesModule,
        MergesModule,
        PrivacyModule,
      ],
    };
  }
}
