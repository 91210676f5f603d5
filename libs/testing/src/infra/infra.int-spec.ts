import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { startInfra, type Infra } from './infra.js';
import { startNats } from './nats-server.js';
import { PortInUseError } from './ports.js';
import { isProcessRunning } from './process-running.js';
import { startRedis } from './redis-server.js';
import { type RunningServer } from './server.js';

describe('startInfra', () => {
  const savedEnv = { ...process.env };
  let infra: Infra | undefined;
  const shared: RunningServer[] = [];

  afterEach(async () => {
    process.env = { ...savedEnv };
    await infra?.stop();
    infra = undefined;
    await Promise.all(shared.splice(0).map((server) => server.stop()));
  });

  it('starts the servers asked for and stops them all', async () => {
    delete process.env.NATS_URL;
    delete process.env.REDIS_URL;
    delete process.env.MONGO_URL;
    infra = await startInfra({ nats: true, redis: true, mongo: true });

    expect(infra.natsUrl).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(infra.redisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(infra.mongoUrl).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+$/);
    const mongo = new MongoClient(infra.mongoUrl!);
    await expect(mongo.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
    await mongo.close();

    const pids = [infra.nats!.pid!, infra.redis!.pid!, infra.mongo!.pid!];
    await infra.stop();
    expect(pids.filter(isProcessRunning)).toEqual([]);
  });

  it('starts only what is asked for', async () => {
    infra = await startInfra({ redis: true });
    expect(infra).toMatchObject({
      natsUrl: undefined,
      mongoUrl: undefined,
      nats: undefined,
      mongo: undefined,
    });
    expect(infra.redisUrl).toBeDefined();
  });

  it('uses NATS_URL and REDIS_URL when set, emptied, and leaves those servers running', async () => {
    const nats = await startNats();
    const redis = await startRedis();
    shared.push(nats, redis);
    await createStream(nats.url, 'LEFTOVER');
    await setKey(redis.url, 'leftover');
    process.env.NATS_URL = nats.url;
    process.env.REDIS_URL = redis.url;

    infra = await startInfra({ nats: true, redis: true });
    await infra.stop();

    expect(infra).toMatchObject({
      natsUrl: nats.url,
      redisUrl: redis.url,
      nats: undefined,
      redis: undefined,
    });
    expect(await streamNames(nats.url)).toEqual([]);
    expect(await keyCount(redis.url)).toBe(0);
    expect(isProcessRunning(nats.pid!) && isProcessRunning(redis.pid!)).toBe(true);
  });

  it('refuses a port that is already taken, naming it', async () => {
    const redis = await startRedis();
    shared.push(redis);
    await expect(startRedis({ port: redis.port })).rejects.toThrow(PortInUseError);
    await expect(startRedis({ port: redis.port })).rejects.toThrow(`Port ${redis.port} (redis-server)`);
  });
});

async function createStream(url: string, name: string): Promise<void> {
  const connection = await connect({ servers: url });
  await (await jetstreamManager(connection)).streams.add({ name, subjects: [`${name.toLowerCase()}.*`] });
  await connection.close();
}

async function streamNames(url: string): Promise<string[]> {
  const connection = await connect({ servers: url });
  const names: string[] = [];
  for await (const name of (await jetstreamManager(connection)).streams.names()) names.push(name);
  await connection.close();
  return names;
}

async function setKey(url: string, key: string): Promise<void> {
  const client = new Redis(url);
  await client.set(key, '1');
  client.disconnect();
}

async function keyCount(url: string): Promise<number> {
  const client = new Redis(url);
  const count = await client.dbsize();
  client.disconnect();
  return count;
}
