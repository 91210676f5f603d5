import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { deterministicId, type Envelope, originEnvelope, type TrackPayload } from '@mesh/contracts';
import { bootService, startInfra, uniqueName } from '@mesh/testing';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
// The bench drives identity's use case in process (no app-to-app import: a bench is not an app).
import { identitySpec } from '../../apps/identity/src/identity.app.js';
import { ResolveEventUseCase } from '../../apps/identity/src/resolution/resolve-event.usecase.js';
import { entryKey } from '../../apps/identity/src/resolution/identifier-cache.js';

// Resolutions per second on a graph of PROFILES profiles, against the same run's MongoDB-wire
// `findOne` by id (the baseline), as ratios: the issue's mix (70 % known, 25 % new, 5 % merging)
// and each kind of event alone. The use case runs in process (publishing to a real nats-server),
// CONCURRENCY at a time; every phase runs for SECONDS (what is in flight then finishes).
//
// The graph is seeded straight into the collections (insertMany): profile i holds user id user-i and
// anonymous id anon-i. The identifier cache (Redis) is seeded with the user ids, as a running
// service would have them after their first events; the anonymous ids are left out, so
// "known, not cached" events take the MongoDB path. The mix's known events use cached user ids.
//
// FerretDB 1.24's SQLite backend pushes a filter down to SQL only when it is exactly {_id: <string>},
// and then as `_ferretdb_sjson->'$._id' = ?`, while the unique index it creates on _id is on the
// expression `_ferretdb_sjson->"_id"`: SQLite cannot match the two, so even that query scans the
// table (every other filter is evaluated in Go over every document). A second round of phases
// (skip it with BENCH_INDEXED=0) adds an index on the pushed-down expression straight into FerretDB's
// SQLite file, which is what a store that uses its _id index does; it is a bench-only measurement.
// Usage: npm run bench -- identity [-- <profiles> <seconds per phase>]
const PROFILES = Number(process.argv[2] ?? process.env.BENCH_PROFILES ?? 100_000);
const SECONDS = Number(process.argv[3] ?? process.env.BENCH_SECONDS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const INDEXED_ROUND = process.env.BENCH_INDEXED !== '0';
const BATCH = 5_000;

interface Rate {
  count: number;
  seconds: number;
  perSecond: number;
  /** Attempts that failed and were run again, as a redelivery would (e.g. FerretDB's SQLITE_BUSY). */
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

/** Adds (or drops), in FerretDB's SQLite file, an index its `_id` pushdown can use, on every collection's table. */
function pushedDownIdIndex(file: string, action: 'add' | 'drop'): string[] {
  const sqlite = new DatabaseSync(file, { timeout: 60_000 });
  try {
    const tables = sqlite
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_ferretdb%' ESCAPE '\\'",
      )
      .all() as { name: string }[];
    for (const { name } of tables) {
      sqlite.exec(
        action === 'add'
          ? `CREATE INDEX IF NOT EXISTS "${name}_bench_id" ON "${name}" (_ferretdb_sjson->'$._id')`
          : `DROP INDEX IF EXISTS "${name}_bench_id"`,
      );
    }
    return tables.map((table) => table.name);
  } finally {
    sqlite.close();
  }
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
    await measure('findOne by _id (baseline)', () =>
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
  // The indexed round first (it is short), then the index is dropped again for FerretDB as it is.
  if (INDEXED_ROUND && infra.mongo) {
    const file = join(infra.mongo.dataDir, `${database}.sqlite`);
    console.log(
      `bench/identity: index on _ferretdb_sjson->'$._id' added to ${pushedDownIdIndex(file, 'add').join(', ')}`,
    );
    await round("with an index on FerretDB's pushed-down _id expression");
    pushedDownIdIndex(file, 'drop');
  }
  await round('FerretDB as it is');
  console.log(
    JSON.stringify({ profiles: PROFILES, seconds: SECONDS, concurrency: CONCURRENCY, seedSeconds, rounds }),
  );
} finally {
  await service.close();
  await redis.quit();
  await mongo.close();
  await infra.stop();
}
