import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { SERVICES, type ServiceName } from '@mesh/contracts';
import {
  analyzeStore,
  fillLikeShoppers,
  freePort,
  type ReceivedEmail,
  sendShopper,
  shopperAddress,
  shopperProfileId,
  SmtpSink,
  startMongo,
  startNats,
  startPostgres,
  startRedis,
  startServiceProcesses,
} from '@mesh/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { MongoClient } from 'mongodb';
import { percentiles } from '../messaging/bench-stats.js';
import { childPids, CpuMeter, type ProcessGroup } from '../support/process-cpu.js';

// The whole mesh as a user sees it: the six services, NATS, Redis, FerretDB and PostgreSQL started as
// `npm start` starts them (LOG_LEVEL=info, no trace exporter), an SMTP sink as the mail server. The
// store is first made to look like one that has served BENCH_PROFILES shoppers (20 real shoppers, their
// documents copied). Then:
//   1. identity's `GET /api/profiles?email=` for known addresses, one at a time, against the store's
//      own indexed `findOne` measured in the same run;
//   2. shoppers arriving at fixed rates (an open model: arrivals do not wait for answers), each one
//      `/v1/batch` call (identify a new address + Product Added with a new cart) answered by one email:
//      accepted, emails, missing, duplicates, event→SMTP latency, CPU-seconds per shopper per process;
//      against the store's upsert rate (8 in flight) measured in the same run.
// Usage: npm run bench -- mesh; BENCH_PROFILES (100000), BENCH_RATES (10,25,50), BENCH_SECONDS (30 per
// rate), BENCH_LOOKUPS (1000).
const PROFILES = Number(process.env.BENCH_PROFILES ?? 100_000);
const RATES = (process.env.BENCH_RATES ?? '10,25,50').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 1_000);
const WARM_UP_SHOPPERS = 20;
/** How long after the last arrival an email may still come before it counts as missing. */
const DRAIN_MS = 30_000;
const SUSTAINABLE_P99_MS = 1_000;
const WRITE_KEY = 'bench-mesh-write-key-0123456789';
const ADMIN_TOKEN = 'bench-mesh-admin-token-0123456789';

/** Warnings and errors the services logged (pino levels 40 and up), the first few of each kept. */
const problems = new Map<string, { count: number; first: string[] }>();
function noteLogLine(service: ServiceName, line: string): void {
  let level: number;
  let message = line;
  try {
    const entry = JSON.parse(line) as { level?: number; msg?: string };
    level = entry.level ?? 0;
    message = entry.msg ?? line;
  } catch {
    level = /\b(WARN|ERROR|FATAL)\b/.test(line) ? 40 : 0;
  }
  if (level < 40) return;
  const seen = problems.get(service) ?? { count: 0, first: [] };
  seen.count++;
  if (seen.first.length < 3) seen.first.push(message.slice(0, 300));
  problems.set(service, seen);
  if (process.env.BENCH_VERBOSE) console.log(`${service} | ${line}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

console.log(`bench/mesh: load average at start ${load()}`);
const [nats, redis, postgres] = await Promise.all([startNats(), startRedis(), startPostgres()]);
const mongo = await startMongo({ postgresUrl: postgres.url });
const sink = new SmtpSink();
const smtpPort = await sink.start();
const ports = new Map<ServiceName, number>();
for (const service of SERVICES) ports.set(service, await freePort());
const mesh = await startServiceProcesses({
  env: {
    NATS_URL: nats.url,
    REDIS_URL: redis.url,
    MESH_ADMIN_TOKEN: ADMIN_TOKEN,
    MESH_DEMO: 'true',
    MESH_DEMO_WRITE_KEY: WRITE_KEY,
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    LOG_LEVEL: 'info',
    // e.g. "--cpu-prof --cpu-prof-dir=/tmp/mesh-prof" to profile every service under load.
    ...(process.env.BENCH_SERVICE_NODE_OPTIONS
      ? { NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS }
      : {}),
  },
  serviceEnv: (service) => ({ PORT: String(ports.get(service)), MONGO_URL: `${mongo.url}/${service}` }),
  onLine: (service, line) => noteLogLine(service, line),
});
const groups: ProcessGroup[] = [
  ...SERVICES.map((service) => ({ name: service, pids: () => [mesh.pid(service)!] })),
  { name: 'nats-server', pids: () => [nats.pid!] },
  { name: 'redis-server', pids: () => [redis.pid!] },
  { name: 'ferretdb', pids: () => [mongo.pid!] },
  { name: 'postgresql', pids: () => [postgres.pid!, ...childPids(postgres.pid!)] },
];

const run = randomBytes(3).toString('hex');
const token = (i: number) => `m${run}q${String(i).padStart(7, '0')}z`;
const addressOf = (i: number) => shopperAddress(token(i));
/** When each shopper's call went out, and when each address got an email. */
const sentAt = new Map<string, number>();
const arrivals = new Map<string, number[]>();
sink.onEmail((email: ReceivedEmail) => {
  const at = performance.now();
  for (const to of email.to) arrivals.set(to, [...(arrivals.get(to) ?? []), at]);
});

async function shopper(i: number): Promise<boolean> {
  sentAt.set(addressOf(i), performance.now());
  try {
    return (await sendShopper(mesh.url('ingest'), WRITE_KEY, token(i))) === 200;
  } catch {
    return false;
  }
}

/** Shoppers from..from+count-1 at `rate` a second; resolves with how many calls were accepted. */
async function arrive(from: number, count: number, rate: number): Promise<number> {
  const started = performance.now();
  const calls: Array<Promise<boolean>> = [];
  for (let k = 0; k < count; k++) {
    await sleep(Math.max(0, started + (k * 1_000) / rate - performance.now()));
    calls.push(shopper(from + k));
  }
  return (await Promise.all(calls)).filter(Boolean).length;
}

async function emailsFor(from: number, count: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    let arrived = 0;
    for (let k = 0; k < count; k++) if (arrivals.has(addressOf(from + k))) arrived++;
    if (arrived === count) return;
    await sleep(100);
  }
}

const natsClient = await connect({ servers: nats.url });
const jsm = await jetstreamManager(natsClient);

/**
 * Consumers with messages not yet delivered (pending: lag) or delivered and not yet acked (in flight,
 * e.g. a batch lingering; reported, not lag).
 */
async function consumerLag(): Promise<{ lagging: number; consumers: string[] }> {
  const lagging: string[] = [];
  let pending = 0;
  for await (const stream of jsm.streams.list()) {
    for await (const consumer of jsm.consumers.list(stream.config.name)) {
      pending += consumer.num_pending;
      if (consumer.num_pending + consumer.num_ack_pending > 0) {
        lagging.push(
          `${consumer.name} ${consumer.num_pending} pending, ${consumer.num_ack_pending} in flight`,
        );
      }
    }
  }
  return { lagging: pending, consumers: lagging };
}

// The store's own rates, the baselines.
const baselineClient = new MongoClient(mongo.url);
const scratch = baselineClient.db('bench_baseline').collection<{ _id: string; n: number }>('upserts');
await scratch.insertOne({ _id: 'created', n: 0 });
const upsertSeconds = performance.now();
let upserts = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (performance.now() - upsertSeconds < 5_000) {
      await scratch.updateOne({ _id: `u-${upserts++ % 10_000}` }, { $inc: { n: 1 } }, { upsert: true });
    }
  }),
);
const upsertsPerSecond = upserts / ((performance.now() - upsertSeconds) / 1_000);
console.log(`bench/mesh: store upserts by _id, 8 in flight: ${upsertsPerSecond.toFixed(0)}/s (baseline)`);

// A store that has served PROFILES shoppers.
const filling = performance.now();
await arrive(0, WARM_UP_SHOPPERS, 10);
await emailsFor(0, WARM_UP_SHOPPERS, 60_000);
const filled = await fillLikeShoppers(
  mongo.url,
  SERVICES,
  await Promise.all(
    Array.from({ length: WARM_UP_SHOPPERS }, (_, i) => token(i)).flatMap(async (shopper) => [
      shopper,
      await shopperProfileId(mesh.url('identity'), ADMIN_TOKEN, shopper),
    ]),
  ).then((pairs) => pairs.flat()),
  Math.ceil(PROFILES / WARM_UP_SHOPPERS) - 1,
  WARM_UP_SHOPPERS / 2,
);
await analyzeStore(mongo.postgresUrl);
console.log(
  `bench/mesh: store filled in ${((performance.now() - filling) / 1_000).toFixed(0)} s: ` +
    [...filled.collections].map(([name, count]) => `${name} ${count}`).join(', '),
);

// 1. Profile lookups by address among PROFILES profiles.
const identifiers = baselineClient.db('identity').collection('identifiers');
const knownAddress = (k: number) =>
  `${token(k % WARM_UP_SHOPPERS)}c${1 + (k % (PROFILES / WARM_UP_SHOPPERS - 1))}@example.com`;
const lookupLatencies: number[] = [];
const findLatencies: number[] = [];
let lookupsFound = 0;
for (let k = 0; k < LOOKUPS; k++) {
  const email = knownAddress(k * 7919);
  const started = performance.now();
  const response = await fetch(`${mesh.url('identity')}/api/profiles?email=${encodeURIComponent(email)}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  await response.body?.cancel();
  lookupLatencies.push(performance.now() - started);
  if (response.ok) lookupsFound++;
  const findStarted = performance.now();
  await identifiers.findOne({ _id: `email:${email}` as never });
  findLatencies.push(performance.now() - findStarted);
}
const lookup = percentiles(lookupLatencies);
const find = percentiles(findLatencies);
console.log(
  `GET /api/profiles?email= among ${PROFILES} profiles (${lookupsFound} of ${LOOKUPS} found): p50 ${lookup.p50.toFixed(2)} ms, ` +
    `p99 ${lookup.p99.toFixed(2)} ms; store findOne by an indexed field: p50 ${find.p50.toFixed(2)} ms ` +
    `(ratio ${(lookup.p50 / find.p50).toFixed(1)}×)`,
);

// 2. Shoppers at fixed rates.
interface RateResult {
  rate: number;
  shoppers: number;
  accepted: number;
  emails: number;
  missing: number;
  duplicates: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  cpuMsPerShopper: Record<string, number>;
  consumerLagAtEnd: string[];
  sustainable: boolean;
}
const results: RateResult[] = [];
let next = WARM_UP_SHOPPERS;
for (const rate of RATES) {
  const count = Math.round(rate * SECONDS);
  const from = next;
  next += count;
  const meter = new CpuMeter(groups);
  meter.start();
  const sampler = setInterval(() => meter.sample(), 1_000);
  const accepted = await arrive(from, count, rate);
  await emailsFor(from, count, DRAIN_MS);
  clearInterval(sampler);
  const cpu = meter.stop();
  const lag = await consumerLag();
  const latencies: number[] = [];
  let missing = 0;
  let duplicates = 0;
  for (let k = 0; k < count; k++) {
    const address = addressOf(from + k);
    const times = arrivals.get(address) ?? [];
    if (times.length === 0) missing++;
    else latencies.push(times[0]! - sentAt.get(address)!);
    duplicates += Math.max(0, times.length - 1);
  }
  const latency = percentiles(latencies.length > 0 ? latencies : [Number.NaN]);
  const result: RateResult = {
    rate,
    shoppers: count,
    accepted,
    emails: latencies.length,
    missing,
    duplicates,
    latencyMs: latency,
    consumerLagAtEnd: lag.consumers,
    cpuMsPerShopper: Object.fromEntries([...cpu].map(([name, seconds]) => [name, (seconds * 1_000) / count])),
    sustainable: missing === 0 && duplicates === 0 && latency.p99 < SUSTAINABLE_P99_MS && lag.lagging === 0,
  };
  results.push(result);
  console.log(
    `${String(rate).padStart(4)} shoppers/s: ${accepted}/${count} accepted, ${result.emails} emails, ${missing} missing, ` +
      `${duplicates} duplicates; event→SMTP p50 ${latency.p50.toFixed(0)} p90 ${latency.p90.toFixed(0)} ` +
      `p99 ${latency.p99.toFixed(0)} max ${latency.max.toFixed(0)} ms; load ${load()}`,
  );
  console.log(
    `      CPU ms per shopper: ${[...cpu]
      .map(([name, seconds]) => `${name} ${((seconds * 1_000) / count).toFixed(1)}`)
      .join(', ')}; total ${(([...cpu.values()].reduce((a, b) => a + b, 0) * 1_000) / count).toFixed(1)}`,
  );
  console.log(`      consumers at the end: ${lag.consumers.join('; ') || 'all caught up'}`);
  if (!result.sustainable) break;
}

await baselineClient.close();
await natsClient.close();
await mesh.stop();
await sink.stop();
await Promise.all([mongo.stop(), nats.stop(), redis.stop()]);
await postgres.stop();

for (const [service, seen] of problems) {
  console.log(`${service} logged ${seen.count} warnings or errors, first: ${seen.first.join(' | ')}`);
}
const sustained = results.filter((result) => result.sustainable).map((result) => result.rate);
console.log(
  `highest sustained rate: ${sustained.length > 0 ? `${Math.max(...sustained)} shoppers/s` : 'none'} ` +
    `(every email, none twice, p99 < ${SUSTAINABLE_P99_MS} ms); store upserts ${upsertsPerSecond.toFixed(0)}/s`,
);
console.log(
  JSON.stringify({
    bench: 'mesh',
    profiles: PROFILES,
    storeUpsertsPerSecond: Math.round(upsertsPerSecond),
    profileLookupMs: {
      p50: lookup.p50,
      p99: lookup.p99,
      storeFindP50: find.p50,
      found: lookupsFound,
      of: LOOKUPS,
    },
    rates: results,
  }),
);
