import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { type RunResult, type Schedule, summarize } from './bench-stats.js';

/**
 * The baseline: @nats-io/jetstream used directly, the way a careful hand-written service would —
 * msg-id dedupe on publish, a durable pull consumer, JSON decoded, explicit ack per message.
 */
export async function runRawJetStream(
  natsUrl: string,
  bodies: Uint8Array[],
  schedule: Schedule,
  label: string,
): Promise<RunResult> {
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await jsm.streams.add({
    name: 'BENCH_RAW',
    subjects: ['bench.raw'],
    storage: StorageType.File,
    duplicate_window: nanos(120_000),
  });
  await jsm.consumers.add('BENCH_RAW', {
    durable_name: 'bench_raw',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 1024,
  });
  const consumer = await js.consumers.get('BENCH_RAW', 'bench_raw');
  const messages = await consumer.consume({ max_messages: 128 });
  const latencies: number[] = [];
  const decoder = new TextDecoder();
  const consumed = (async () => {
    for await (const message of messages) {
      const body = JSON.parse(decoder.decode(message.data)) as { data: { properties: { sentAt: number } } };
      message.ack();
      latencies.push(performance.now() - body.data.properties.sentAt);
      if (latencies.length === bodies.length) break;
    }
  })();

  const started = performance.now();
  await schedule(bodies.length, async (i) => {
    const body = bodies[i]!;
    const stamped = new TextEncoder().encode(
      new TextDecoder().decode(body).replace('"sentAt":0', `"sentAt":${performance.now()}`),
    );
    await js.publish('bench.raw', stamped, { msgID: `raw-${i}` });
  });
  await consumed;
  const seconds = (performance.now() - started) / 1000;
  await messages.close();
  await jsm.streams.delete('BENCH_RAW');
  await nc.close();
  return summarize(`raw @nats-io/jetstream ${label}`, bodies.length, seconds, latencies);
}
