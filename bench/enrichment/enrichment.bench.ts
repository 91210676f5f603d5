import { type Envelope, originEnvelope, type ResolvedTrackPayload } from '@mesh/contracts';
import { freePort, startInfra, startServiceProcesses, uniqueName } from '@mesh/testing';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { MongoClient } from 'mongodb';
import { atRate, inWindow, percentiles, type Schedule } from '../messaging/bench-stats.js';

// Enrichment as a process (as production runs it) on its own nats-server, redis-server and FerretDB
// (on PostgreSQL, with the index companions npm start and npm test install):
// resolved track events in, `enrichment.profile.updated` out. The baseline, measured in the same run,
// is FerretDB's own upsert rate: every event is one profile read and one conditional write there.
// Usage: npm run bench -- enrichment [-- <events> <window>]; BENCH_RATE, BENCH_SECONDS, BENCH_PROFILES.
const EVENTS = Number(process.argv[2] ?? process.env.BENCH_EVENTS ?? 5_000);
const WINDOW = Number(process.argv[3] ?? process.env.BENCH_WINDOW ?? 256);
const RATE = Number(process.env.BENCH_RATE ?? 1_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PROFILES = Number(process.env.BENCH_PROFILES ?? 2_000);
// Handler slots: concurrent handlers' journal inserts go out as one insertMany (group commit).
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 256);
/** A run that has not seen every update by then reports what it saw. */
const RUN_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 180_000);

const EVENT_KINDS = [
  {
    event: 'Product Viewed',
    properties: { product_id: 'sku-1', category: 'Laptops', name: 'Laptop 13', price: 1299 },
  },
  {
    event: 'Product Added',
    properties: { product_id: 'sku-2', category: 'Mice', price: 25, cart_id: 'c', quantity: 1 },
  },
  { event: 'Order Completed', properties: { order_id: 'o', revenue: 1324, currency: 'EUR' } },
];

function event(run: string, i: number): Envelope<ResolvedTrackPayload> {
  const profileId = `bench-${i % PROFILES}`;
  const kind = EVENT_KINDS[i % EVENT_KINDS.length]!;
  const properties = {
    ...kind.properties,
    ...('order_id' in kind.properties ? { order_id: `${run}-${i}` } : {}),
    ...('cart_id' in kind.properties ? { cart_id: `${run}-${profileId}` } : {}),
  };
  return originEnvelope({
    id: `${run}-${i}`,
    type: 'track',
    source: 'bench',
    occurredAt: new Date().toISOString(),
    profileId,
    data: {
      messageId: `${run}-${i}`,
      userId: profileId,
      event: kind.event,
      properties,
      identifiers: [{ type: 'user_id', value: profileId }],
    },
  });
}

/** FerretDB rewrites a whole document per update: the baseline writes documents of a profile's size. */
const PROFILE_SIZED = 'x'.repeat(3_000);

async function ferretUpserts(mongoUrl: string, count: number, window: number): Promise<number> {
  const client = new MongoClient(mongoUrl);
  try {
    const collection = client
      .db(uniqueName('bench_baseline'))
      .collection<{ _id: string; n: number; state?: string }>('profiles');
    // Created first, with its index companion, so the timed writes measure writes, not creation.
    await collection.insertOne({ _id: 'created', n: 0 });
    const started = performance.now();
    await inWindow(window)(count, (i) =>
      collection.updateOne(
        { _id: `p-${i % PROFILES}` },
        { $inc: { n: 1 }, $set: { state: PROFILE_SIZED } },
        { upsert: true },
      ),
    );
    return count / ((performance.now() - started) / 1000);
  } finally {
    await client.close();
  }
}

const infra = await startInfra({ nats: true, mongo: true, redis: true });
const port = await freePort();
const mesh = await startServiceProcesses({
  services: ['enrichment'],
  env: {
    NATS_URL: infra.natsUrl!,
    REDIS_URL: infra.redisUrl!,
    NATS_STREAM_MAX_BYTES: String(512 * 1024 * 1024),
    MESH_ADMIN_TOKEN: 'bench-admin-token-0123456789',
    LOG_LEVEL: 'warn',
    MESSAGING_CONCURRENCY: String(CONCURRENCY),
    // e.g. "--cpu-prof --cpu-prof-dir=/tmp/enrichment-prof" to profile the service under load.
    ...(process.env.BENCH_SERVICE_NODE_OPTIONS
      ? { NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS }
      : {}),
  },
  onLine: (_service, line) => {
    if (process.env.BENCH_VERBOSE) console.log(`enrichment | ${line}`);
  },
  serviceEnv: () => ({ PORT: String(port), MONGO_URL: `${infra.mongoUrl}/${uniqueName('enrichment')}` }),
});
const nc = await connect({ servers: infra.natsUrl! });
try {
  const js = jetstream(nc);
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let waiting: { count: number; resolve: () => void } | undefined;
  const subscription = nc.subscribe('enrichment.profile.updated');
  void (async () => {
    for await (const message of subscription) {
      const { causationId } = message.json<Envelope>();
      const started = sentAt.get(causationId);
      if (started === undefined) continue;
      sentAt.delete(causationId);
      latencies.push(performance.now() - started);
      if (waiting && latencies.length >= waiting.count) waiting.resolve();
    }
  })();

  let runs = 0;
  const run = async (label: string, count: number, schedule: Schedule) => {
    // Ids of their own per run: the stream's duplicate window would drop a repeated id.
    const id = `run${++runs}-${Math.random().toString(36).slice(2, 8)}`;
    latencies.length = 0;
    const done = new Promise<void>((resolve) => (waiting = { count, resolve }));
    const started = performance.now();
    await schedule(count, async (i) => {
      const envelope = event(id, i);
      sentAt.set(envelope.id, performance.now());
      await js.publish('identity.resolved.track', JSON.stringify(envelope), { msgID: envelope.id });
    });
    const progress = setInterval(() => {
      if (process.env.BENCH_VERBOSE) console.log(`${label}: ${latencies.length}/${count}`);
    }, 5_000);
    let timedOut = false;
    await Promise.race([
      done,
      new Promise<void>((resolve) =>
        setTimeout(() => {
          timedOut = true;
          resolve();
        }, RUN_TIMEOUT_MS),
      ),
    ]);
    clearInterval(progress);
    if (timedOut)
      console.log(`${label}: only ${latencies.length} of ${count} updates within ${RUN_TIMEOUT_MS} ms`);
    const seconds = (performance.now() - started) / 1000;
    const updates = latencies.length;
    return {
      label,
      events: count,
      updates,
      seconds,
      perSecond: updates / seconds,
      latency: percentiles(latencies),
    };
  };

  console.log(
    `bench/enrichment: ${PROFILES} profiles, handler concurrency ${CONCURRENCY}, nats ${infra.natsUrl}, FerretDB ${infra.mongoUrl}`,
  );
  const baseline = await ferretUpserts(infra.mongoUrl!, 3_000, CONCURRENCY);
  if (process.env.BENCH_VERBOSE) console.log(`baseline ${baseline.toFixed(0)} upserts/s`);
  await run('warm-up', 1_000, inWindow(WINDOW));
  const saturated = await run(`saturated (${WINDOW} in flight)`, EVENTS, inWindow(WINDOW));
  const steady = await run(`steady ${RATE}/s for ${SECONDS} s`, RATE * SECONDS, atRate(RATE));
  const line = (result: Awaited<ReturnType<typeof run>>) =>
    `${result.label.padEnd(34)} ${result.perSecond.toFixed(0).padStart(6)} updates/s   p50 ${result.latency.p50
      .toFixed(1)
      .padStart(7)} ms   p99 ${result.latency.p99.toFixed(1).padStart(7)} ms`;
  console.log(
    `${`FerretDB 3 KB upserts (${CONCURRENCY} in flight)`.padEnd(34)} ${baseline.toFixed(0).padStart(6)} upserts/s`,
  );
  console.log(line(saturated));
  console.log(line(steady));
  console.log(
    `ratio profile updates ÷ FerretDB upserts: ${(saturated.perSecond / baseline).toFixed(2)}×; ` +
      `at ${RATE} events/s: p99 ${steady.latency.p99.toFixed(0)} ms (target < 1000 ms)`,
  );
  console.log(
    JSON.stringify({
      profiles: PROFILES,
      concurrency: CONCURRENCY,
      baselineUpsertsPerSecond: baseline,
      saturated,
      steady,
    }),
  );
  subscription.unsubscribe();
} finally {
  await nc.close();
  await mesh.stop();
  await infra.stop();
}
