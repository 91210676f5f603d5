import { deleteAllStreams, startNats } from './nats-server.js';
import { startMongo, type MongoOptions, type MongoServer } from './mongo-server.js';
import { flushRedis, startRedis } from './redis-server.js';
import { type RunningServer } from './server.js';

export interface InfraOptions {
  nats?: boolean;
  redis?: boolean;
  /** true, or how to start FerretDB (e.g. `{ metrics: true }`). */
  mongo?: boolean | MongoOptions;
}

/** URLs of the servers asked for; a server handle only for those this call started (to kill or restart). */
export interface Infra {
  natsUrl?: string;
  redisUrl?: string;
  mongoUrl?: string;
  nats?: RunningServer;
  redis?: RunningServer;
  mongo?: MongoServer;
  /** Stops the servers this call started; shared servers from the environment are left running. */
  stop(): Promise<void>;
}

interface Provided {
  url: string;
  server?: RunningServer;
}

/**
 * The servers a test file needs. NATS_URL, REDIS_URL or MONGO_URL points it at a shared server instead:
 * it then deletes every NATS stream and flushes the Redis database first, so the file starts clean (on a
 * shared server, run Jest with --runInBand). MongoDB is left as is: use a database from uniqueName().
 */
export async function startInfra(options: InfraOptions): Promise<Infra> {
  const env = process.env;
  const [nats, redis, mongo] = await startAllOrNone([
    options.nats ? () => provide(env.NATS_URL, deleteAllStreams, startNats) : undefined,
    options.redis ? () => provide(env.REDIS_URL, flushRedis, startRedis) : undefined,
    options.mongo
      ? () =>
          provide(
            env.MONGO_URL,
            () => Promise.resolve(),
            () => startMongo(options.mongo === true ? {} : options.mongo || {}),
          )
      : undefined,
  ]);
  return {
    natsUrl: nats?.url,
    redisUrl: redis?.url,
    mongoUrl: mongo?.url,
    nats: nats?.server,
    redis: redis?.server,
    // startMongo's, when it started one.
    mongo: mongo?.server as MongoServer | undefined,
    stop: () => stopAll([nats?.server, redis?.server, mongo?.server]),
  };
}

async function provide(
  sharedUrl: string | undefined,
  reset: (url: string) => Promise<void>,
  start: () => Promise<RunningServer>,
): Promise<Provided> {
  if (sharedUrl) {
    await reset(sharedUrl);
    return { url: sharedUrl };
  }
  const server = await start();
  return { url: server.url, server };
}

/** Starts in parallel; if one fails, stops those that started and rethrows the first failure. */
async function startAllOrNone(
  starters: ReadonlyArray<(() => Promise<Provided>) | undefined>,
): Promise<Array<Provided | undefined>> {
  const results = await Promise.allSettled(
    starters.map((start) => (start ? start() : Promise.resolve(undefined))),
  );
  const failure = results.find((result) => result.status === 'rejected');
  if (!failure) {
    return results.map((result) => (result.status === 'fulfilled' ? result.value : undefined));
  }
  await stopAll(results.map((result) => (result.status === 'fulfilled' ? result.value?.server : undefined)));
  throw failure.reason;
}

async function stopAll(servers: ReadonlyArray<RunningServer | undefined>): Promise<void> {
  const started = servers.filter((server) => server !== undefined);
  await Promise.all(started.map((server) => server.stop()));
}
