import { Controller, type DynamicModule, Inject, Module } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { type Envelope, originEnvelope, SUBJECTS, type TrackPayload } from '@mesh/contracts';
import {
  JetStreamContext,
  messagingOptions,
  MessagingModule,
  type MessagingOptions,
  OnMessage,
} from '@mesh/messaging';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { LoggerModule } from 'nestjs-pino';

/** What the test wants the handler to do with each delivery. */
export interface Probe {
  behaviour: (envelope: Envelope<TrackPayload>, context: JetStreamContext) => Promise<void>;
}

export const PROBE = Symbol('PROBE');

@Controller()
class ProbeHandler {
  constructor(@Inject(PROBE) private readonly probe: Probe) {}

  @OnMessage(SUBJECTS.ingest.track, {
    // Only messages that carry an `orderKey` property are ordered, so the other tests run concurrently.
    orderBy: (envelope) => envelope.data.properties.orderKey as string | undefined,
  })
  handle(@Payload() envelope: Envelope<TrackPayload>, @Ctx() context: JetStreamContext): Promise<void> {
    return this.probe.behaviour(envelope, context);
  }
}

export function probeModule(
  natsUrl: string,
  probe: Probe,
  options: Partial<MessagingOptions> = {},
): DynamicModule {
  @Module({})
  class MessagingProbeModule {}
  return {
    module: MessagingProbeModule,
    imports: [
      LoggerModule.forRoot({ pinoHttp: { level: 'silent' } }),
      MessagingModule.forRoot(
        messagingOptions({
          service: 'identity',
          servers: natsUrl,
          concurrency: 8,
          ackWaitMs: 2_000,
          streamMaxBytes: 64 * 1024 * 1024,
          ...options,
          retry: { maxDeliver: 3, baseDelayMs: 50, maxDelayMs: 200, ...options.retry },
        }),
      ),
    ],
    controllers: [ProbeHandler],
    providers: [{ provide: PROBE, useValue: probe }],
  };
}

export const CONSUMER = { stream: 'INGEST', durable: 'identity__ingest_track' };

export function trackEnvelope(
  event = 'Product Added',
  properties: Record<string, unknown> = {},
): Envelope<TrackPayload> {
  const messageId = crypto.randomUUID();
  return originEnvelope({
    id: messageId,
    type: 'track',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    data: { messageId, userId: 'user-1', event, properties },
  });
}

/** Deletes every stream, so each test starts from an empty server (streams come back at boot). */
export async function resetJetStream(natsUrl: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  for await (const name of jsm.streams.names()) await jsm.streams.delete(name);
  await nc.close();
}

export async function consumerState(natsUrl: string) {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.info(CONSUMER.stream, CONSUMER.durable);
    const stream = await jsm.streams.info(CONSUMER.stream);
    return {
      ackPending: info.num_ack_pending,
      pending: info.num_pending,
      redelivered: info.num_redelivered,
      delivered: info.delivered.stream_seq,
      storedMessages: stream.state.messages,
    };
  } finally {
    await nc.close();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
