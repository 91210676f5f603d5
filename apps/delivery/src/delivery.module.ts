import { type DynamicModule, Module } from '@nestjs/common';
import { ServiceCoreModule } from '@mesh/runtime';
import { DeliveryEnv } from './config.js';
import { DeferralReleaseModule } from './deferrals/deferral-release.module.js';
import { DeliveryConfigModule } from './delivery-config.module.js';
import { ConversionsModule } from './conversions/conversions.module.js';
import { FeedbackModule } from './feedback/feedback.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { PrivacyModule } from './privacy/privacy.module.js';
import { ReconciliationModule } from './reconciliation/reconciliation.module.js';
import { SendingModule } from './sending/sending.module.js';
import { TrackingModule } from './tracking/tracking.module.js';

@Module({})
export class DeliveryModule {
  static forRoot(env: DeliveryEnv): DynamicModule {
    return {
      module: DeliveryModule,
      imports: [
        ServiceCoreModule.forRoot({
          service: 'delivery',
          env,
          mongoUrl: env.MONGO_URL,
          redisUrl: env.REDIS_URL,
        }),
        DeliveryConfigModule.forRoot(env),
        SendingModule,
        ReconciliationModule,
        DeferralReleaseModule,
        TrackingModule,
        FeedbackModule,
        ConversionsModule,
        MetricsModule,
        PrivacyModule,
      ],
    };
  }
}
