import { type DynamicModule, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { type Db, MongoClient } from 'mongodb';

export const MONGO_CLIENT = Symbol('MONGO_CLIENT');
/** The service's own database (named after the service unless the URL names one). */
export const MONGO_DB = Symbol('MONGO_DB');

export interface MongoOptions {
  url: string;
  /** Used when the URL has no database path. */
  defaultDatabase: string;
}

/** The database named in a mongodb:// URL's path, if any. */
export function databaseFromUrl(url: string): string | undefined {
  const path = new URL(url.replace(/^mongodb(\+srv)?:/, 'http:')).pathname.replace(/^\//, '');
  return path === '' ? undefined : decodeURIComponent(path);
}

@Injectable()
export class MongoLifecycle implements OnApplicationShutdown {
  constructor(@Inject(MONGO_CLIENT) private readonly client: MongoClient) {}

  // After the consumers have drained: handlers still in flight during shutdown need the database.
  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

@Injectable()
export class MongoHealthIndicator {
  constructor(
    @Inject(MONGO_DB) private readonly db: Db,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key = 'mongodb'): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    try {
      await this.db.command({ ping: 1 }, { timeoutMS: 2_000 });
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}

@Module({})
export class MongoModule {
  static forRoot(options: MongoOptions): DynamicModule {
    return {
      module: MongoModule,
      global: true,
      imports: [TerminusModule],
      providers: [
        {
          provide: MONGO_CLIENT,
          useFactory: async () => {
            const client = new MongoClient(options.url, {
              appName: options.defaultDatabase,
              serverSelectionTimeoutMS: 10_000,
            });
            await client.connect();
            return client;
          },
        },
        {
          provide: MONGO_DB,
          inject: [MONGO_CLIENT],
          useFactory: (client: MongoClient) =>
            client.db(databaseFromUrl(options.url) ?? options.defaultDatabase),
        },
        MongoLifecycle,
        MongoHealthIndicator,
      ],
      exports: [MONGO_CLIENT, MONGO_DB, MongoHealthIndicator],
    };
  }
}
