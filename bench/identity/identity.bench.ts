import { randomUUID } from 'node:crypto';
import { deterministicId, type Envelope, originEnvelope, type TrackPayload } from '@mesh/contracts';
import { bootService, startInfra, uniqueName } from '@mesh/testing';
import { MongoClient } from 'mongodb';
// The bench drives identity's use case in process (no app-to-app import: a bench is not an app).
// eslint-disable-next-line no-restricted-imports
import { identitySpec } from '../../apps/identity/src/identity.app.js';
// eslint-disable-next-line no-restricted-imports
import { ResolveEventUseCase } from '../../apps/identity/src/resolution/resolve-event.usecase.js';

// Resolutions per second for a mix of 70 % known, 25 % new and 5 % merging events, on a graph of
// PROFILES profiles, against the same run's MongoDB-wire `findOne` by id. The use case runs in
// process (publishing to a real nats-server), CONCURRENCY at a time.
// Usage: npm run bench -- identity [-- <profiles> <resolutions>]
const PROFILES = Number(process.argv[2] ?? process.env.BENCH_PROFILES ?? 100_000);
const RESOLUTIONS = Number(process.argv[3] ?? process.env.BENCH_RESOLUTIONS ?? 3_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

async function pooled(count: number, work: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await work(next++);
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

function track(data: Partial<TrackPayload>): Envelope<TrackPayload> {
  return originEnvelope({
    type: 'track',
    source: 'bench',
    occurredAt: new Date().toISOString(),
    data: { messageId: randomUUID(), event: 'Product Viewed', properties: {}, ...data },
  });
}

const infra = await startInfra({ nats: true, mongo: true, redis: true });
const database = uniqueName('identity_bench');
const mongo = new MongoClient(infra.mongoUrl!);
const service = await bootService(
  identitySpec({
    PORT: '0',
    NATS_URL: infra.natsUrl!,
    MONGO_URL: `${infra.mongoUrl}/${database}`,
    REDIS_URL: infra.redisUrl!,
    MESH_ADMIN_TOKEN: 'identity-bench-admin-token',
    LOG_LEVEL: 'silent',
  }),
);
try {
  const db = mongo.db(database);
  // The graph: profile i has user id user-i and anonymous id anon-i.
  const seeded = performance.now();
  const now = new Date();
  for (let start = 0; start < PROFILES; start += 5_000) {
    const ids = Array.from({ length: Math.min(5_000, PROFILES - start) }, (_, k) => start + k);
    const profileOf = (i: number) => deterministicId('profile', `user_id:user-${i}`);
    await db.collection('profiles').insertMany(
      ids.map((i) => ({
        _id: profileOf(i) as never,
        identifiers: [`user_id:user-${i}`, `anonymous_id:anon-${i}`],
        firstSeen: now,
        lastSeen: now,
        version: 0,
        schemaVersion: 1,
      })),
    );
    await db.collection('identifiers').insertMany(
      ids.flatMap((i) => [
        {
          _id: `user_id:user-${i}` as never,
          type: 'user_id',
          value: `user-${i}`,
          profileId: profileOf(i),
          createdAt: now,
          schemaVersion: 1,
        },
        {
          _id: `anonymous_id:anon-${i}` as never,
          type: 'anonymous_id',
          value: `anon-${i}`,
          profileId: profileOf(i),
          createdAt: now,
          schemaVersion: 1,
        },
      ]),
    );
  }
  console.log(
    `bench/identity: graph of ${PROFILES} profiles seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
  );

  // 70 % known (a seeded user), 25 % new (a fresh anonymous id), 5 % merging (a new anonymous
  // profile first, then an event connecting it to a seeded user: two resolutions, counted as one).
  const useCase = service.app.get(ResolveEventUseCase);
  const pick = () => Math.floor(Math.random() * PROFILES);
  const resolveOne = async (i: number) => {
    const roll = i % 20;
    if (roll < 14) return useCase.execute('track', track({ userId: `user-${pick()}` }));
    if (roll < 19) return useCase.execute('track', track({ anonymousId: `new-${randomUUID()}` }));
    const anonymousId = `merge-${randomUUID()}`;
    await useCase.execute('track', track({ anonymousId }));
    const user = pick();
    return useCase.execute('track', track({ userId: `user-${user}`, anonymousId: `${anonymousId}` }));
  };
  await pooled(200, resolveOne); // warm-up
  const identifiers = db.collection('identifiers');
  const baseline = await pooled(RESOLUTIONS * 3, () =>
    identifiers.findOne({ _id: `user_id:user-${pick()}` as never }),
  );
  const measured = await pooled(RESOLUTIONS, resolveOne);
  console.log(`findOne by id (baseline)        ${baseline.toFixed(0).padStart(8)} /s`);
  console.log(`resolutions (70/25/5 mix)       ${measured.toFixed(0).padStart(8)} /s`);
  console.log(
    `ratio resolutions ÷ findOne: ${(measured / baseline).toFixed(3)}× (concurrency ${CONCURRENCY})`,
  );
  console.log(
    JSON.stringify({
      profiles: PROFILES,
      resolutions: RESOLUTIONS,
      concurrency: CONCURRENCY,
      baseline,
      measured,
    }),
  );
} finally {
  await service.close();
  await mongo.close();
  await infra.stop();
}
