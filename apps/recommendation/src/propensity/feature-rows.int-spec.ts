import { type Infra, readMongoCommands, startInfra, uniqueName } from '@mesh/testing';
import { Redis } from 'ioredis';
import { type Db, MongoClient } from 'mongodb';
import { ChangeNotices } from '@mesh/storage';
import { type Features, featuresOf } from './features.js';
import { LatestFeatures } from './latest-features.js';
import { type FeatureRow, PropensityRepository } from './propensity.repository.js';

describe('feature rows (real FerretDB)', () => {
  let infra: Infra;
  let client: MongoClient;
  let redis: Redis;
  let db: Db;
  let repository: PropensityRepository;

  beforeAll(async () => {
    infra = await startInfra({ redis: true, mongo: { metrics: true } });
    client = new MongoClient(infra.mongoUrl!);
    db = client.db(uniqueName('feature_rows'));
    redis = new Redis(infra.redisUrl!, { keyPrefix: 'recommendation:' });
    repository = new PropensityRepository(db, new ChangeNotices(redis));
    await repository.onModuleInit();
  }, 60_000);
  afterAll(async () => {
    redis?.disconnect();
    await client?.close();
    await infra?.stop();
  });

  const features = (cartValue: number): Features => ({ ...featuresOf({}, 0), cart_value: cartValue });
  const at = (minute: number) => new Date(Date.UTC(2026, 4, 1, 12, minute));
  const row = (profileId: string) => db.collection<FeatureRow>('feature_rows').findOne({ profileId });

  it('writes the snapshots that arrive together as one command, keeping each profile’s newest of the day', async () => {
    const before = (await readMongoCommands(infra.mongo!.metricsUrl!)).get('update') ?? 0;
    await Promise.all([
      repository.saveFeatures({ profileId: 'ada', at: at(1), features: features(1) }),
      repository.saveFeatures({ profileId: 'ada', at: at(3), features: features(3) }),
      repository.saveFeatures({ profileId: 'ada', at: at(2), features: features(2) }),
      repository.saveFeatures({ profileId: 'bo', at: at(1), features: features(7) }),
    ]);
    expect((await readMongoCommands(infra.mongo!.metricsUrl!)).get('update')).toBe(before + 1);
    expect(await row('ada')).toMatchObject({ at: at(3), features: { cart_value: 3 } });
    expect(await row('bo')).toMatchObject({ at: at(1), features: { cart_value: 7 } });

    // A late (or redelivered) older snapshot changes nothing; a newer one of the day replaces it.
    await repository.saveFeatures({ profileId: 'ada', at: at(2), features: features(2) });
    expect(await row('ada')).toMatchObject({ at: at(3), features: { cart_value: 3 } });
    await repository.saveFeatures({ profileId: 'ada', at: at(4), features: features(4) });
    expect(await row('ada')).toMatchObject({ at: at(4), features: { cart_value: 4 } });
    expect(await db.collection('feature_rows').countDocuments({ profileId: 'ada' })).toBe(1);
  });

  // The profile.updated consumer is not ordered by profile, and a profile's later version may come
  // from an event that happened earlier (a late event): the version decides, not the time.
  it('keeps the highest profile version, in the day row and in Redis, whatever the event times', async () => {
    const latest = new LatestFeatures(redis);
    const snapshot = (version: number, minute: number, cartValue: number) => ({
      profileId: 'cy',
      at: at(minute),
      features: features(cartValue),
      version,
    });
    // Version 7 (built from an event of 12:05) is handled first, then version 6 (an event of 12:10).
    for (const [version, minute, cartValue] of [
      [7, 5, 70],
      [6, 10, 60],
    ] as const) {
      await repository.saveFeatures(snapshot(version, minute, cartValue));
      await latest.save('cy', snapshot(version, minute, cartValue));
    }
    expect(await row('cy')).toMatchObject({ version: 7, features: { cart_value: 70 } });
    expect((await latest.get('cy'))?.features.cart_value).toBe(70);
    // Together in one batch, in the same order.
    await Promise.all([
      repository.saveFeatures(snapshot(9, 6, 90)),
      repository.saveFeatures(snapshot(8, 11, 80)),
    ]);
    expect(await row('cy')).toMatchObject({ version: 9, features: { cart_value: 90 } });
    // A redelivery of the newest writes it again; a newer version replaces it.
    await repository.saveFeatures(snapshot(9, 6, 90));
    await repository.saveFeatures(snapshot(10, 1, 100));
    await latest.save('cy', snapshot(10, 1, 100));
    expect(await row('cy')).toMatchObject({ version: 10, at: at(1), features: { cart_value: 100 } });
    expect((await latest.get('cy'))?.features.cart_value).toBe(100);
    expect(await db.collection('feature_rows').countDocuments({ profileId: 'cy' })).toBe(1);
  });
});
