import { randomUUID } from 'node:crypto';
import { bootService, startInfra, uniqueName } from '@mesh/testing';
import Fastify from 'fastify';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
// The bench boots ingest in process (a bench is not an app, so it may import one).
import { ingestSpec } from '../../apps/ingest/src/ingest.app.js';
import { percentiles } from '../messaging/bench-stats.js';

// Accepted calls per second through /v1/track and /v1/batch (100 events), with write-key auth,
// validation, dedup and an awaited JetStream ack, against a bare Fastify route answering the same
// body in the same run (same client, same concurrency); then CSV import rows/s.
// Usage: npm run bench -- ingest [-- <requests> <concurrency> <import rows>]
// 20,000 calls a side by default: shorter runs measure the client's warm-up too (the in-process
// client's first thousands of calls cost more CPU), which flatters the ratio (0.50–0.55 at 5,000
// against 0.44–0.48 at 20,000, same code, same machine).
const REQUESTS = Number(process.argv[2] ?? process.env.BENCH_REQUESTS ?? 20_000);
const CONCURRENCY = Number(process.argv[3] ?? process.env.BENCH_CONCURRENCY ?? 32);
const IMPORT_ROWS = Number(process.argv[4] ?? process.env.BENCH_IMPORT_ROWS ?? 50_000);
/** Which parts to run (comma-separated): track, batch (each against bare Fastify), http (both), import. */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'http,import').split(','));
if (PARTS.has('http')) for (const part of ['track', 'batch']) PARTS.add(part);
const BATCH_SIZE = 100;
/** Alternating rounds of bare and ingest for each HTTP comparison. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const WRITE_KEY = 'ingest-bench-write-key-0123456789';
const authorization = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;

interface Result {
  name: string;
  latencies: number[];
  seconds: number;
  /** CPU seconds of this process (client and server) during the run. */
  cpuSeconds: number;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
}

const track = () => ({
  userId: `user-${Math.floor(Math.random() * 1000)}`,
  event: 'Product Viewed',
  messageId: randomUUID(),
  properties: { product_id: 'sku-1', name: 'Laptop 13', price: 1299, currency: 'EUR' },
  timestamp: new Date().toISOString(),
});

async function drive(name: string, url: string, requests: number, body: () => unknown): Promise<Result> {
  const latencies: number[] = [];
  let next = 0;
  const failed = new Map<number, number>();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < requests) {
        const sent = performance.now();
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify(body()),
        });
        await response.arrayBuffer();
        if (response.status !== 200) failed.set(response.status, (failed.get(response.status) ?? 0) + 1);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (failed.size > 0)
    throw new Error(`${name}: requests failed (status: count) ${JSON.stringify(Object.fromEntries(failed))}`);
  const { p50, p99 } = percentiles(latencies);
  return { name, latencies, seconds, cpuSeconds, requests, perSecond: requests / seconds, p50, p99 };
}

const row = (r: Result) =>
  `${r.name.padEnd(34)} ${r.perSecond.toFixed(0).padStart(7)} req/s   p50 ${r.p50.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(6)} ms`;

const infra = await startInfra({ nats: true, mongo: true, redis: true });
const bare = Fastify({ bodyLimit: 500 * 1024 });
bare.post('/echo', (_request, reply) => reply.send({ success: true }));
const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });
const ingest = await bootService(
  ingestSpec({
    PORT: '0',
    NATS_URL: infra.natsUrl!,
    MONGO_URL: `${infra.mongoUrl}/${uniqueName('ingest_bench')}`,
    REDIS_URL: infra.redisUrl!,
    NATS_STREAM_MAX_BYTES: String(1024 ** 3),
    MESH_ADMIN_TOKEN: 'ingest-bench-admin-token',
    MESH_DEMO_WRITE_KEY: WRITE_KEY,
    // The per-source limit (1,000/s by default) is applied and costs its Redis call, but must not refuse.
    INGEST_DEFAULT_RATE_LIMIT_PER_SECOND: '1000000',
    LOG_LEVEL: 'silent',
  }),
);
try {
  // BENCH_CPU_PROFILE=<file>: a CPU profile of the parts run (open it in Chrome's DevTools).
  const profiler = process.env.BENCH_CPU_PROFILE ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  if (PARTS.has('track') || PARTS.has('batch')) await benchHttp();
  if (PARTS.has('import')) await benchImport();
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(process.env.BENCH_CPU_PROFILE!, JSON.stringify(profile));
    profiler.disconnect();
  }
} finally {
  await ingest.close();
  await bare.close();
  await infra.stop();
}

/**
 * Bare and ingest in alternating rounds (bare first, then ingest first, …), summed: the shared
 * machine's load drifts by the second, and a ratio of two runs taken a minute apart measures the drift.
 */
async function paired(
  names: [string, string],
  urls: [string, string],
  requests: number,
  body: () => unknown,
): Promise<[Result, Result]> {
  const rounds = ROUNDS;
  const parts: [Result[], Result[]] = [[], []];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const side of order)
      parts[side]!.push(await drive(names[side]!, urls[side]!, Math.ceil(requests / rounds), body));
  }
  const sum = (side: 0 | 1): Result => {
    const latencies = parts[side].flatMap((part) => part.latencies);
    const seconds = parts[side].reduce((total, part) => total + part.seconds, 0);
    const cpuSeconds = parts[side].reduce((total, part) => total + part.cpuSeconds, 0);
    const { p50, p99 } = percentiles(latencies);
    return {
      name: names[side],
      latencies,
      seconds,
      cpuSeconds,
      requests: latencies.length,
      perSecond: latencies.length / seconds,
      p50,
      p99,
    };
  };
  return [sum(0), sum(1)];
}

async function benchHttp(): Promise<void> {
  console.log(
    `bench/ingest: ${REQUESTS} requests, ${CONCURRENCY} in flight, in ${ROUNDS} alternating rounds; batches of ${BATCH_SIZE}`,
  );
  // Less sensitive to the shared machine's load: this process's CPU per request (client included on
  // both sides; NATS, Redis and FerretDB, which only ingest uses, are other processes and not counted).
  const perRequest = (result: Result) => (result.cpuSeconds / result.requests) * 1e6;
  await drive('warm-up', `${bareUrl}/echo`, 500, track);
  await drive('warm-up', `${ingest.url}/v1/track`, 500, track);
  if (PARTS.has('track')) {
    const [bare, service] = await paired(
      ['bare Fastify, track body', 'ingest /v1/track'],
      [`${bareUrl}/echo`, `${ingest.url}/v1/track`],
      REQUESTS,
      track,
    );
    for (const result of [bare, service]) console.log(row(result));
    console.log(
      `ratio ingest ÷ bare Fastify, /v1/track: ${(service.perSecond / bare.perSecond).toFixed(2)}× (target ≥ 0.5); ` +
        `CPU per request in this process ${perRequest(service).toFixed(0)} µs vs bare ${perRequest(bare).toFixed(0)} µs ` +
        `(ratio ${(perRequest(bare) / perRequest(service)).toFixed(2)}×)`,
    );
  }
  if (PARTS.has('batch')) {
    const batchBody = () => ({
      batch: Array.from({ length: BATCH_SIZE }, () => ({ type: 'track', ...track() })),
    });
    const [bare, service] = await paired(
      ['bare Fastify, batch body', 'ingest /v1/batch (100 events)'],
      [`${bareUrl}/echo`, `${ingest.url}/v1/batch`],
      Math.max(50, Math.floor(REQUESTS / 20)),
      batchBody,
    );
    for (const result of [bare, service]) console.log(row(result));
    console.log(
      `ratio ingest ÷ bare Fastify, /v1/batch: ${(service.perSecond / bare.perSecond).toFixed(2)}× ` +
        `(${(service.perSecond * BATCH_SIZE).toFixed(0)} events/s); CPU per request in this process ` +
        `${perRequest(service).toFixed(0)} µs vs bare ${perRequest(bare).toFixed(0)} µs`,
    );
  }
}

async function benchImport(): Promise<void> {
  const encoder = new TextEncoder();
  let written = 0;
  const csv = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode('userId,email,plan\n'));
    },
    pull(controller) {
      if (written >= IMPORT_ROWS) return controller.close();
      let chunk = '';
      for (let i = 0; i < 1000 && written < IMPORT_ROWS; i++, written++)
        chunk += `user-${written},user-${written}@example.com,gold\n`;
      controller.enqueue(encoder.encode(chunk));
    },
  });
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const response = await fetch(`${ingest.url}/api/imports?fileId=${randomUUID()}&format=csv`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', authorization },
    body: csv,
    duplex: 'half',
  });
  const job = (await response.json()) as { accepted: number };
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    `import CSV: ${job.accepted} rows in ${seconds.toFixed(1)} s = ${(job.accepted / seconds).toFixed(0)} rows/s (target ≥ 10,000); ` +
      `this process (ingest + the uploading client; not NATS, Redis, FerretDB) used ${cpuSeconds.toFixed(1)} CPU-s = ` +
      `${(job.accepted / cpuSeconds).toFixed(0)} rows per CPU-second`,
  );
}
