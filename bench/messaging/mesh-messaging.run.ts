import { Controller, Inject, Module } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type Envelope, SUBJECTS, type TrackPayload } from '@mesh/contracts';
import {
  type EnvelopeOf,
  MessagePublisher,
  messagingOptions,
  MessagingModule,
  OnMessage,
} from '@mesh/messaging';
import { createServiceApp } from '@mesh/runtime';
import { LoggerModule } from 'nestjs-pino';
import { type RunResult, type Schedule, summarize } from './bench-stats.js';

const SINK = Symbol('SINK');

interface Sink {
  received(envelope: Envelope<TrackPayload>): void;
}

@Controller()
class BenchHandler {
  constructor(@Inject(SINK) private readonly sink: Sink) {}

  @OnMessage('ingest.track')
  async handle(@Payload() envelope: EnvelopeOf<'ingest.track'>): Promise<void> {
    this.sink.received(envelope);
    return Promise.resolve();
  }
}

/**
 * The same traffic through libs/messaging: typed publish with trace headers and retries, the
 * JetStream transport's durable consumer, contract validation, bounded concurrency, settlement.
 */
export async function runMeshMessaging(
  natsUrl: string,
  envelopes: Envelope<TrackPayload>[],
  schedule: Schedule,
  label: string,
): Promise<RunResult> {
  const latencies: number[] = [];
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const sink: Sink = {
    received(envelope) {
      latencies.push(performance.now() - (envelope.data.properties.sentAt as number));
      if (latencies.length === envelopes.length) resolveDone();
    },
  };

  @Module({
    imports: [
      LoggerModule.forRoot({ pinoHttp: { level: 'silent' } }),
      MessagingModule.forRoot(
        messagingOptions({
          service: 'identity',
          servers: natsUrl,
          streamMaxBytes: 512 * 1024 * 1024,
          concurrency: Number(process.env.BENCH_CONCURRENCY ?? 64),
        }),
      ),
    ],
    controllers: [BenchHandler],
    providers: [{ provide: SINK, useValue: sink }],
  })
  class BenchModule {}

  const app = await createServiceApp(
    { module: BenchModule },
    { port: 0, host: '127.0.0.1', shutdownHooks: false },
  );
  const publisher = app.get(MessagePublisher);
  // Fresh ids per run: the stream's duplicate window would drop a second run's messages.
  const run = Math.random().toString(36).slice(2, 8);
  const started = performance.now();
  await schedule(envelopes.length, async (i) => {
    const envelope = envelopes[i]!;
    const id = `${envelope.id}-${run}`;
    await publisher.publish(SUBJECTS.ingest.track, {
      ...envelope,
      id,
      correlationId: id,
      causationId: id,
      data: { ...envelope.data, properties: { ...envelope.data.properties, sentAt: performance.now() } },
    });
  });
  await done;
  const seconds = (performance.now() - started) / 1000;
  await app.close();
  return summarize(`libs/messaging ${label}`, envelopes.length, seconds, latencies);
}
