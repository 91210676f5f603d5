import { type DynamicModule, Module } from '@nestjs/common';
import { ServiceCoreModule } from '@mesh/runtime';
import { AdminModule } from './admin/admin.module.js';
import { IngestEnv } from './config.js';
import { CustomersModule } from './customers/customers.module.js';
import { DedupModule } from './dedup/dedup.module.js';
import { ImportModule } from './import/import.module.js';
import { PrivacyModule } from './privacy/privacy.module.js';
import { RateLimitModule } from './rate-limit/rate-limit.module.js';
import { SourcesModule } from './sources/sources.module.js';
import { TRACKING_ROUTES } from './tracking/access-log.js';
import { TrackingModule } from './tracking/tracking.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

@Module({})
export class IngestModule {
  static forRoot(env: IngestEnv): DynamicModule {
    return {
      module: IngestModule,
      imports: [
        ServiceCoreModule.forRoot({
          service: 'ingest',
          env,
          mongoUrl: env.MONGO_URL,
          redisUrl: env.REDIS_URL,
          ...(env.INGEST_ACCESS_LOG === 'failures' ? { quietRoutes: [TRACKING_ROUTES] } : {}),
        }),
        SourcesModule.forRoot(env),
        DedupModule.forRoot(env),
        PrivacyModule.forRoot(env),
        CustomersModule,
        ImportModule,
        TrackingModule,
        AdminModule,
        RateLimitModule,
        WebhooksModule,
      ],
    };
  }
}
