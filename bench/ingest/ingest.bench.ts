import { randomUUID } from 'node:crypto';
import { bootService, startInfra, uniqueName } from '@mesh/testing';
import Fastify from 'fastify';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
// The bench boots ingest in process (a bench is not an app, so it may import one).
// eslint-disable-next-line no-restricted-imports
import { ingestSpec } from '../../apps/ingest/src/ingest.app.js';
import { percentiles } from '../messaging/bench-stats.js';

// Accepted calls per second through /v1/track and /v1/batch (100 events), with write-key auth,
// validation, dedup and an awaited JetStream ack, against a bare Fastify route answering the same
// body in the same run (same client, same concurrency); then CSV import rows/s.
// Usage: npm run bench -- ingest [-- <requests> <concurrency> <import rows>]
const REQUESTS = Number(process.argv[2] ?? process.env.BENCH_REQUESTS ?? 5_000);
const CONCURRENCY = Number(process.argv[3] ?? process.env.BENCH_CONCURRENCY ?? 32);
const IMPORT_ROWS = Number(process.argv[4] ?? process.env.BENCH_IMPORT_ROWS ?? 50_000);
/** Which parts to run (comma-separated): http (track and batch against bare Fastify), import. */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'http,import').split(','));
const BATCH_SIZE = 100;
const WRITE_KEY = 'ingest-bench-write-key-0123456789';
const authorization = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;

interface Result {
  name: string;
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
  let failed = 0;
  const started = performance.now();
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
        if (response.status !== 200) failed++;
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  if (failed > 0) throw new Error(`${name}: ${failed} requests failed`);
  const { p50, p99 } = percentiles(latencies);
  return { name, requests, perSecond: requests / seconds, p50, p99 };
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
    LOG_LEVEL: 'silent',
  }),
);
try {
  if (PARTS.has('http')) await benchHttp();
  if (PARTS.has('import')) await benchImport();
} finally {
  await ingest.close();
  await bare.close();
  await infra.stop();
}

async function benchHttp(): Promise<void> {
  console.log(`bench/ingest: ${REQUESTS} requests, ${CONCURRENCY} in flight; batches of ${BATCH_SIZE}`);
  await drive('warm-up', `${bareUrl}/echo`, 500, track);
  await drive('warm-up', `${ingest.url}/v1/track`, 500, track);
  const bareTrack = await drive('bare Fastify, track body', `${bareUrl}/echo`, REQUESTS, track);
  const ingestTrack = await drive('ingest /v1/track', `${ingest.url}/v1/track`, REQUESTS, track);
  const batchBody = () => ({
    batch: Array.from({ length: BATCH_SIZE }, () => ({ type: 'track', ...track() })),
  });
  const batches = Math.max(50, Math.floor(REQUESTS / 20));
  const bareBatch = await drive('bare Fastify, batch body', `${bareUrl}/echo`, batches, batchBody);
  const ingestBatch = await drive(
    'ingest /v1/batch (100 events)',
    `${ingest.url}/v1/batch`,
    batches,
    batchBody,
  );
  for (const result of [bareTrack, ingestTrack, bareBatch, ingestBatch]) console.log(row(result));
  console.log(
    `ratio ingest ÷ bare Fastify: /v1/track ${(ingestTrack.perSecond / bareTrack.perSecond).toFixed(2)}× ` +
      `(target ≥ 0.5), /v1/batch ${(ingestBatch.perSecond / bareBatch.perSecond).toFixed(2)}× ` +
      `(${(ingestBatch.perSecond * BATCH_SIZE).toFixed(0)} events/s)`,
  );
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
  // BENCH_CPU_PROFILE=<file>: a CPU profile of the import alone (open it in Chrome's DevTools).
  const profiler = process.env.BENCH_CPU_PROFILE ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
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
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(process.env.BENCH_CPU_PROFILE!, JSON.stringify(profile));
    profiler.disconnect();
  }
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    `import CSV: ${job.accepted} rows in ${seconds.toFixed(1)} s = ${(job.accepted / seconds).toFixed(0)} rows/s (target ≥ 10,000); ` +
      `this process (ingest + the uploading client; not NATS, Redis, FerretDB) used ${cpuSeconds.toFixed(1)} CPU-s = ` +
      `${(job.accepted / cpuSeconds).toFixed(0)} rows per CPU-second`,
  );
}
