import { type Envelope, originEnvelope, type TrackPayload } from '@mesh/contracts';
import { startNats } from '@mesh/testing';
import { atRate, inWindow, type RunResult } from './bench-stats.js';
import { runMeshMessaging } from './mesh-messaging.run.js';
import { runRawJetStream } from './raw-jetstream.run.js';

// Publish + consume through libs/messaging against raw @nats-io/jetstream, same server, same
// message size, same publish window, in one run. Usage: npm run bench [-- <messages> <window>]
const MESSAGES = Number(process.argv[2] ?? process.env.BENCH_MESSAGES ?? 20_000);
const WINDOW = Number(process.argv[3] ?? process.env.BENCH_WINDOW ?? 256);
/** The steady rate of the latency runs, well under both paths' capacity so no queue builds up. */
const RATE = Number(process.env.BENCH_RATE ?? 1_000);

function envelopes(count: number): Envelope<TrackPayload>[] {
  return Array.from({ length: count }, (_, i) =>
    originEnvelope({
      id: `bench-${i}-${process.pid}`,
      type: 'track',
      source: 'bench',
      occurredAt: new Date().toISOString(),
      data: {
        messageId: `bench-${i}`,
        userId: `user-${i % 1000}`,
        event: 'Product Viewed',
        properties: {
          product_id: `sku-${i % 500}`,
          name: 'Laptop 13',
          price: 1299,
          currency: 'EUR',
          sentAt: 0,
        },
      },
    }),
  );
}

function row(result: RunResult): string {
  const { p50, p99 } = result.latency;
  return `${result.name.padEnd(40)} ${result.throughput.toFixed(0).padStart(8)} msg/s   p50 ${p50.toFixed(1).padStart(7)} ms   p99 ${p99.toFixed(1).padStart(7)} ms`;
}

const nats = await startNats();
try {
  const mesh = envelopes(MESSAGES);
  const raw = mesh.map((envelope) => new TextEncoder().encode(JSON.stringify(envelope)));
  const size = raw[0]!.byteLength;
  console.log(
    `bench/messaging: ${MESSAGES} messages of ${size} bytes, ${WINDOW} publishes in flight, nats-server at ${nats.url}`,
  );
  // Warm both paths (JIT, connections) before measuring.
  await runRawJetStream(nats.url, raw.slice(0, 1000), inWindow(WINDOW), 'warm-up');
  const saturated = `(${WINDOW} in flight)`;
  const baseline = await runRawJetStream(nats.url, raw, inWindow(WINDOW), saturated);
  const measured = await runMeshMessaging(nats.url, mesh, inWindow(WINDOW), saturated);
  const steady = `(${RATE} msg/s)`;
  const latencyCount = Math.min(MESSAGES, RATE * 5);
  const baselineLatency = await runRawJetStream(nats.url, raw.slice(0, latencyCount), atRate(RATE), steady);
  const measuredLatency = await runMeshMessaging(nats.url, mesh.slice(0, latencyCount), atRate(RATE), steady);
  for (const result of [baseline, measured, baselineLatency, measuredLatency]) console.log(row(result));
  console.log(
    `ratio libs/messaging ÷ raw: throughput ${(measured.throughput / baseline.throughput).toFixed(2)}×; ` +
      `latency at ${RATE} msg/s: p50 ${(measuredLatency.latency.p50 / baselineLatency.latency.p50).toFixed(2)}×, ` +
      `p99 ${(measuredLatency.latency.p99 / baselineLatency.latency.p99).toFixed(2)}×`,
  );
  console.log(
    JSON.stringify({
      messages: MESSAGES,
      bytes: size,
      window: WINDOW,
      rate: RATE,
      baseline,
      measured,
      baselineLatency,
      measuredLatency,
    }),
  );
} finally {
  await nats.stop();
}
