import { type DynamicModule, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { Redis } from 'ioredis';

export const REDIS = Symbol('REDIS');

export interface RedisOptions {
  url: string;
  /** Every key of the service starts with it (e.g. `enrichment:`), so services never collide. */
  keyPrefix: string;
}

@Injectable()
export class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit();
  }
}

@Injectable()
export class RedisHealthIndicator {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key = 'redis'): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    try {
      await this.redis.ping();
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}

@Module({})
export class RedisModule {
  static forRoot(options: RedisOptions): DynamicModule {
    return {
      module: RedisModule,
      global: true,
      imports: [TerminusModule],
      providers: [
        {
          provide: REDIS,
          useFactory: async () => {
            const redis = new Redis(options.url, {
              keyPrefix: options.keyPrefix,
              lazyConnect: true,
              maxRetriesPerRequest: 3,
              // Commands issued in the same tick by concurrent requests/handlers go out as one write.
              enableAutoPipelining: true,
            });
            await redis.connect();
            return redis;
          },
        },
        RedisLifecycle,
        RedisHealthIndicator,
      ],
      exports: [REDIS, RedisHealthIndicator],
    };
  }
}
