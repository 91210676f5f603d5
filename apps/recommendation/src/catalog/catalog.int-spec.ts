import { ChangeNotices } from '@mesh/storage';
import { type Infra, startInfra, uniqueName, waitFor } from '@mesh/testing';
import { Redis } from 'ioredis';
import { type Db, MongoClient } from 'mongodb';
import { CatalogRepository } from './catalog.repository.js';

describe('catalog between replicas (real FerretDB and Redis)', () => {
  let infra: Infra;
  let client: MongoClient;
  let db: Db;
  const redisClients: Redis[] = [];
  const notices: ChangeNotices[] = [];

  beforeAll(async () => {
    infra = await startInfra({ redis: true, mongo: true });
    client = new MongoClient(infra.mongoUrl!);
    db = client.db(uniqueName('catalog'));
  }, 60_000);
  afterAll(async () => {
    for (const replicaNotices of notices) replicaNotices.onApplicationShutdown();
    for (const redis of redisClients) redis.disconnect();
    await client?.close();
    await infra?.stop();
  });

  const replica = async (keyPrefix: string) => {
    const redis = new Redis(infra.redisUrl!, { keyPrefix });
    redisClients.push(redis);
    const replicaNotices = new ChangeNotices(redis);
    notices.push(replicaNotices);
    const catalog = new CatalogRepository(db, replicaNotices);
    await catalog.onModuleInit();
    return { redis, catalog };
  };

  it('announces a change again when its message comes again after the announcement failed', async () => {
    const keyPrefix = `${uniqueName('recommendation')}:`;
    const a = await replica(keyPrefix);
    const b = await replica(keyPrefix);
    const laptop = { product_id: 'sku-laptop', price: 1299, currency: 'EUR', stock: 4 };
    await a.catalog.upsert([laptop]);
    await waitFor(
      'b to hold the laptop',
      async () => (await b.catalog.find(['sku-laptop']))[0]?.price === 1299,
    );

    // The price is stored, then Redis is out of reach (closed: its commands fail at once): the
    // message fails, and is redelivered.
    a.redis.disconnect();
    await expect(a.catalog.upsert([{ ...laptop, price: 999 }])).rejects.toThrow();
    expect((await db.collection('products').findOne({ _id: 'sku-laptop' as never }))?.price).toBe(999);
    await a.redis.connect();

    await a.catalog.upsert([{ ...laptop, price: 999 }]);
    // Well before the 30 s check of the change counters: the redelivery's own notice.
    await waitFor(
      'b to hear the new price',
      async () => (await b.catalog.find(['sku-laptop']))[0]?.price === 999,
      3_000,
    );
  });
});
