import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { deterministicId, type Envelope, originEnvelope, type TrackPayload } from '@mesh/contracts';
import { bootService, COMPANION_SUFFIX, startInfra, uniqueName, withPostgres } from '@mesh/testing';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
// The bench drives identity's use case in process (no app-to-app import: a bench is not an app).
import { identitySpec } from '../../apps/identity/src/identity.app.js';
import { ResolveEventUseCase } from '../../apps/identity/src/resolution/resolve-event.usecase.js';
import { entryKey } from '../../apps/identity/src/resolution/identifier-cache.js';

// Resolutions per second on a graph of PROFILES profiles, against the same run's store upsert rate
// (upserts by _id, CONCURRENCY in flight, the baseline) and `findOne` by id, as ratios: the issue's mix (70 % known, 25 % new, 5 % merging)
// and each kind of event alone. The use case runs in process (publishing to a real nats-server),
// CONCURRENCY at a time; every phase runs for SECONDS (what is in flight then finishes).
//
// The graph is seeded straight into the collections (insertMany): profile i holds user id user-i and
// anonymous id anon-i. The identifier cache (Redis) is seeded with the user ids, as a running
// service would have them after their first events; the anonymous ids are left out, so
// "known, not cached" events take the MongoDB path. The mix's known events use cached user ids.
//
// The store is FerretDB on PostgreSQL with the index companions the local runtime installs. A second
// round (BENCH_WITHOUT_COMPANIONS=1; slow at 100k profiles) drops them, which is FerretDB as it comes:
// every pushed-down equality then reads the whole table.
// Usage: npm run bench -- identity [-- <profiles> <seconds per phase>]
const PROFILES = Number(process.argv[2] ?? process.env.BENCH_PROFILES ?? 100_000);
const SECONDS = Number(process.argv[3] ?? process.env.BENCH_SECONDS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WITHOUT_COMPANIONS_ROUND = process.env.BENCH_WITHOUT_COMPANIONS === '1';
const BATCH = 5_000;

interface Rate {
  count: number;
  seconds: number;
  perSecond: number;
  /** Attempts that failed and were run again, as a redelivery would. */
  retried: number;
}

async function pooled(work: (i: number) => Promise<unknown>, seconds = SECONDS): Promise<Rate> {
  let next = 0;
  let retried = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const again = async (i: number) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work(i);
      } catch (error) {
        if (attempt >= 5) throw error;
        retried++;
      }
    }
  };
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) await again(next++);
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { count: next, seconds: elapsed, perSecond: next / elapsed, retried };
}

function track(data: Partial<TrackPayload>): Envelope<TrackPayload> {
  return originEnvelope({
    type: 'track',
    source: 'bench',
    occurredAt: new Date().toISOString(),
    data: { messageId: randomUUID(), event: 'Product Viewed', properties: {}, ...data },
  });
}

/** Drops every index companion in the store's PostgreSQL database (FerretDB as it comes). */
async function dropCompanions(postgresUrl: string): Promise<number> {
  return withPostgres(postgresUrl, async (client) => {
    await client.query('DROP EVENT TRIGGER IF EXISTS mesh_index_companions');
    const { rows } = await client.query<{ schema: string; index: string }>(
      `SELECT schemaname AS schema, indexname AS index FROM pg_indexes WHERE indexname LIKE $1`,
      [`%${COMPANION_SUFFIX.replace('_', '\\_')}`],
    );
    for (const { schema, index } of rows) await client.query(`DROP INDEX "${schema}"."${index}"`);
    return rows.length;
  });
}

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

console.log(`bench/identity: load average at start ${load()}`);
const infra = await startInfra({ nats: true, mongo: true, redis: true });
const database = uniqueName('identity_bench');
const mongo = new MongoClient(infra.mongoUrl!);
const redis = new Redis(infra.redisUrl!);
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
  const seeded = performance.now();
  const now = new Date();
  const profileOf = (i: number) => deterministicId('profile', `user_id:user-${i}`);
  for (let start = 0; start < PROFILES; start += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, PROFILES - start) }, (_, k) => start + k);
    await db.collection('profiles').insertMany(
      ids.map((i) => ({
        _id: profileOf(i) as never,
        identifiers: [`user_id:user-${i}`, `anonymous_id:anon-${i}`],
        firstSeen: now,
        lastSeen: now,
        version: 0,
        schemaVersion: 1,
      })),
      { ordered: false },
    );
    await db.collection('identifiers').insertMany(
      ids.flatMap((i) =>
        (['user_id', 'anonymous_id'] as const).map((type) => {
          const value = type === 'user_id' ? `user-${i}` : `anon-${i}`;
          return {
            _id: `${type}:${value}` as never,
            type,
            value,
            profileId: profileOf(i),
            createdAt: now,
            schemaVersion: 1,
          };
        }),
      ),
      { ordered: false },
    );
    const pipeline = redis.pipeline();
    for (const i of ids)
      pipeline.set(`identity:${entryKey(`user_id:user-${i}`)}`, profileOf(i), 'EX', 86_400);
    await pipeline.exec();
  }
  const seedSeconds = (performance.now() - seeded) / 1000;
  console.log(
    `bench/identity: ${PROFILES} profiles, ${PROFILES * 2} identifiers and ${PROFILES} cache entries seeded in ${seedSeconds.toFixed(1)} s`,
  );

  const useCase = service.app.get(ResolveEventUseCase);
  const identifiers = db.collection('identifiers');
  const upserts = db.collection<{ _id: string; n: number }>('bench_upserts');
  const pick = () => Math.floor(Math.random() * PROFILES);
  const knownCached = () => useCase.execute('track', track({ userId: `user-${pick()}` }));
  const knownUncached = () => useCase.execute('track', track({ anonymousId: `anon-${pick()}` }));
  const fresh = () => useCase.execute('track', track({ anonymousId: `new-${randomUUID()}` }));
  // A new anonymous profile first, then an event connecting it to a seeded user: counted as one.
  const merging = async () => {
    const anonymousId = `merge-${randomUUID()}`;
    await useCase.execute('track', track({ anonymousId }));
    await useCase.execute('track', track({ userId: `user-${pick()}`, anonymousId }));
  };
  const mix = (i: number) => {
    const roll = i % 20;
    return roll < 14 ? knownCached() : roll < 19 ? fresh() : merging();
  };

  await pooled(mix, Math.min(5, SECONDS)); // warm-up
  const rounds: Record<string, Record<string, Rate>> = {};
  const round = async (title: string) => {
    console.log(`${title} (concurrency ${CONCURRENCY}, ${SECONDS} s per phase, load average ${load()}):`);
    const rows: [string, Rate][] = [];
    const measure = async (name: string, work: (i: number) => Promise<unknown>) => {
      const rate = await pooled(work);
      rows.push([name, rate]);
      console.log(
        `  ${name.padEnd(40)} ${rate.perSecond.toFixed(1).padStart(9)} /s  (${rate.count} in ${rate.seconds.toFixed(1)} s${rate.retried ? `, ${rate.retried} retried` : ''})`,
      );
    };
    let upserted = 0;
    await measure('store upserts by _id (baseline)', () =>
      upserts.updateOne({ _id: `u-${upserted++ % PROFILES}` }, { $inc: { n: 1 } }, { upsert: true }),
    );
    await measure('store findOne by _id', () =>
      identifiers.findOne({ _id: `user_id:user-${pick()}` as never }),
    );
    await measure('mix 70 % known / 25 % new / 5 % merging', mix);
    await measure('known, cached (hot path)', knownCached);
    await measure('known, not cached (MongoDB path)', knownUncached);
    await measure('new', fresh);
    await measure('merging (two resolutions)', merging);
    const baseline = rows[0]![1].perSecond;
    console.log(`  ratios to the baseline (load average now ${load()}):`);
    for (const [name, rate] of rows.slice(1)) {
      console.log(`    ${name.padEnd(40)} ${(rate.perSecond / baseline).toFixed(3)}×`);
    }
    rounds[title] = Object.fromEntries(rows);
  };
  await round('FerretDB on PostgreSQL with index companions (as npm start and npm test run it)');
  if (WITHOUT_COMPANIONS_ROUND && infra.mongo) {
    console.log(`bench/identity: ${await dropCompanions(infra.mongo.postgresUrl)} index companions dropped`);
    await round('FerretDB on PostgreSQL as it comes (no companions)');
  }
  console.log(
    JSON.stringify({ profiles: PROFILES, seconds: SECONDS, concurrency: CONCURRENCY, seedSeconds, rounds }),
  );
} finally {
  await service.close();
  await redis.quit();
  await mongo.close();
  await infra.stop();
}
