import { randomUUID } from 'node:crypto';
import {
  bootService,
  type BootedService,
  type Infra,
  MessageTap,
  readCollectionStats,
  readTopStatements,
  startInfra,
  uniqueName,
  waitFor,
} from '@mesh/testing';
import { Redis } from 'ioredis';
import { ingestSpec } from '../src/ingest.app.js';
import { ErasedIdentities } from '../src/privacy/erased-identities.js';

const WRITE_KEY = 'change-feeds-write-key-0123456789';
const ADMIN_TOKEN = 'ingest-test-admin-token';

/**
 * What one replica changes (erasures, opt-ins, sources), the others learn from Redis: their polls
 * cost one Redis call and no MongoDB read while nothing changes, and read only what changed.
 */
describe('ingest: changes seen by every replica', () => {
  let infra: Infra;
  let database: string;
  let first: BootedService;
  let second: BootedService;
  let tap: MessageTap;
  let redis: Redis;

  const boot = () =>
    bootService(
      ingestSpec({
        PORT: '0',
        NATS_URL: infra.natsUrl,
        MONGO_URL: `${infra.mongoUrl}/${database}`,
        REDIS_URL: infra.redisUrl!,
        NATS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
        MESH_ADMIN_TOKEN: ADMIN_TOKEN,
        MESH_DEMO_WRITE_KEY: WRITE_KEY,
        INGEST_ERASED_REFRESH_MS: '100',
        INGEST_SOURCE_CACHE_MS: '100',
        LOG_LEVEL: 'silent',
      }),
    );

  beforeAll(async () => {
    infra = await startInfra({ nats: true, mongo: true, redis: true });
    database = uniqueName('ingest');
    first = await boot();
    second = await boot();
    tap = await MessageTap.open(infra.natsUrl!, 'ingest.>');
    redis = new Redis(infra.redisUrl!);
  }, 60_000);
  afterAll(async () => {
    redis?.disconnect();
    await tap?.close();
    await first?.close();
    await second?.close();
    await infra?.stop();
  });

  const call = (replica: BootedService, path: string, body: unknown) =>
    fetch(`${replica.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
      },
      body: JSON.stringify(body),
    });
  const track = async (replica: BootedService, userId: string) => {
    const messageId = randomUUID();
    const response = await call(replica, '/v1/track', { messageId, userId, event: 'Product Viewed' });
    await response.body?.cancel();
    return { status: response.status, messageId };
  };
  /** Statements PostgreSQL ran on one collection's table so far (counted as they end). */
  const statementsOn = async (collection: string) => {
    const postgresUrl = infra.mongo!.postgresUrl;
    const table = (await readCollectionStats(postgresUrl)).find(
      (stats) => stats.collection === `${database}.${collection}`,
    )?.table;
    if (!table) return 0;
    const name = table.split('.')[1]!;
    return (await readTopStatements(postgresUrl, 10_000))
      .filter((statement) => statement.query.includes(name))
      .reduce((sum, statement) => sum + statement.calls, 0);
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('reads neither erasures nor sources from MongoDB while nothing changes, calls keep coming', async () => {
    expect((await call(first, '/v1/privacy/erase', { userId: 'u-idle' })).status).toBe(202);
    await track(first, 'u-warm');
    await track(second, 'u-warm');
    await sleep(300);
    const before = [await statementsOn('erased_identities'), await statementsOn('sources')];
    expect(Math.min(...before)).toBeGreaterThan(0);

    // Many polls and source cache times pass.
    for (let i = 0; i < 10; i++) {
      expect((await track(first, 'u-busy')).status).toBe(200);
      expect((await track(second, 'u-busy')).status).toBe(200);
      await sleep(100);
    }
    expect([await statementsOn('erased_identities'), await statementsOn('sources')]).toEqual(before);
  });

  it('a source disabled through one replica is refused by the other within the cache time', async () => {
    const admin = (path: string) =>
      fetch(`${first.url}/api/sources/demo/${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
    expect((await admin('disable')).status).toBeLessThan(300);
    try {
      await waitFor('the other replica to refuse the disabled source', async () => {
        return (await track(second, 'u-source')).status !== 200;
      });
    } finally {
      expect((await admin('enable')).status).toBeLessThan(300);
    }
    await waitFor('the other replica to take the source again', async () => {
      return (await track(second, 'u-source')).status === 200;
    });
  });

  it('an erasure whose replica died between MongoDB and Redis is found by the other replicas', async () => {
    const person = [{ type: 'user_id' as const, value: 'u-interrupted' }];
    // The replica's announcement fails (as if it died right after writing MongoDB).
    await redis.call('ACL', 'SETUSER', 'default', '-eval');
    try {
      const response = await call(first, '/v1/privacy/erase', { userId: 'u-interrupted' });
      await response.body?.cancel();
      expect(response.status).toBe(500);
    } finally {
      await redis.call('ACL', 'SETUSER', 'default', '+eval');
    }
    await waitFor(
      'the other replica to read the erasure left pending',
      () => second.app.get(ErasedIdentities).isErased(person),
      15_000,
    );
    const { messageId } = await track(second, 'u-interrupted');
    const marker = await track(second, 'u-bystander');
    await tap.next(
      'ingest.track',
      (m) => (m.envelope.data as { messageId: string }).messageId === marker.messageId,
    );
    expect(
      tap.messages().filter((m) => (m.envelope.data as { messageId?: string }).messageId === messageId),
    ).toEqual([]);
  }, 30_000);
});
