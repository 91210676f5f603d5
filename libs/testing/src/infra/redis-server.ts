import { Redis } from 'ioredis';
import { startServer, type RunningServer, type ServerDefinition, type ServerOptions } from './server.js';

export interface RedisOptions extends ServerOptions {
  /** Keep writes in an append-only file in the data dir (the local runtime); tests keep nothing. */
  appendOnly?: boolean;
}

/** redis-server bound to 127.0.0.1; ready once it answers PING. */
export function startRedis(options: RedisOptions = {}): Promise<RunningServer> {
  return startServer(redisDefinition(options.appendOnly ?? false), options);
}

function redisDefinition(appendOnly: boolean): ServerDefinition {
  return {
    tool: 'redis-server',
    readyTimeoutMs: 20_000,
    preferTmpfs: false,
    url: (port) => `redis://127.0.0.1:${port}`,
    args: (port, dataDir) => [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir],
      ...['--save', '', '--appendonly', appendOnly ? 'yes' : 'no'],
    ],
    probe: async (url) => {
      await withRedis(url, (redis) => redis.ping());
    },
  };
}

/** Deletes every key of the database in `url`. */
export async function flushRedis(url: string): Promise<void> {
  await withRedis(url, (redis) => redis.flushdb());
}

async function withRedis<T>(url: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    // disconnect() on a connection that already ended leaves a 2 s timer behind.
    if (redis.status !== 'end') redis.disconnect();
  }
}
