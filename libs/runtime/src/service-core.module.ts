import { type DynamicModule, Module } from '@nestjs/common';
import { type ServiceName } from '@mesh/contracts';
import { type ServiceEnv } from '@mesh/config';
import { messagingOptions, MessagingModule } from '@mesh/messaging';
import { MongoModule, RedisModule } from '@mesh/storage';
import { loggerParams } from '@mesh/telemetry';
import { LoggerModule } from 'nestjs-pino';
import { ADMIN_TOKEN, AdminTokenGuard } from './admin-token.guard.js';
import { HealthModule } from './health.module.js';

export interface ServiceCoreOptions {
  service: ServiceName;
  env: ServiceEnv;
  /** The service's own MongoDB database, if it has state there. */
  mongoUrl?: string;
  /** The service's Redis, if it has state there; keys are prefixed with `<service>:`. */
  redisUrl?: string;
  /** Routes served without a request logger (see LoggerOptions.quietRoutes). */
  quietRoutes?: string[];
}

/**
 * What every service is made of besides its capabilities: logs, messaging, storage, health, and the
 * admin token guard (global, so any controller can use `@UseGuards(AdminTokenGuard)`).
 */
@Module({})
export class ServiceCoreModule {
  static forRoot(options: ServiceCoreOptions): DynamicModule {
    const { service, env } = options;
    return {
      module: ServiceCoreModule,
      global: true,
      providers: [{ provide: ADMIN_TOKEN, useValue: env.MESH_ADMIN_TOKEN }, AdminTokenGuard],
      exports: [ADMIN_TOKEN, AdminTokenGuard],
      imports: [
        LoggerModule.forRoot(
          loggerParams({ service, level: env.LOG_LEVEL, quietRoutes: options.quietRoutes }),
        ),
        MessagingModule.forRoot(
          messagingOptions({
            service,
            servers: env.NATS_URL,
            user: env.NATS_USER,
            pass: env.NATS_PASSWORD,
            streamReplicas: env.NATS_STREAM_REPLICAS,
            streamMaxBytes: env.NATS_STREAM_MAX_BYTES,
            concurrency: env.MESSAGING_CONCURRENCY,
            maxAckPending: env.MESSAGING_MAX_ACK_PENDING,
            retry: { maxDeliver: env.MESSAGING_MAX_DELIVER },
          }),
        ),
        ...(options.mongoUrl
          ? [MongoModule.forRoot({ url: options.mongoUrl, defaultDatabase: service })]
          : []),
        ...(options.redisUrl
          ? [RedisModule.forRoot({ url: options.redisUrl, keyPrefix: `${service}:` })]
          : []),
        HealthModule,
      ],
    };
  }
}
