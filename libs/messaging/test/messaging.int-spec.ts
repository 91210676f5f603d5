import { type DeadLetterPayload, SUBJECTS, type TrackPayload, type Envelope } from '@mesh/contracts';
import { MessagePublisher, NatsConnection, PermanentError } from '@mesh/messaging';
import { startTestTelemetry, type TestTelemetry } from '@mesh/telemetry';
import {
  bootService,
  type BootedService,
  MessageTap,
  type RunningServer,
  startNats,
  waitFor,
} from '@mesh/testing';
import {
  consumerState,
  type Probe,
  probeModule,
  resetJetStream,
  sleep,
  trackEnvelope,
} from './messaging-fixture.js';

describe('libs/messaging against a real JetStream', () => {
  let nats: RunningServer;
  let telemetry: TestTelemetry;
  let service: BootedService | undefined;
  let tap: MessageTap;
  const probe: Probe = { behaviour: async () => undefined };

  beforeAll(async () => {
    telemetry = startTestTelemetry('messaging-test');
    nats = await startNats();
  });

  afterAll(async () => {
    await nats.stop();
    await telemetry.shutdown();
  });

  beforeEach(async () => {
    await resetJetStream(nats.url);
    tap = await MessageTap.open(nats.url, 'dlq.>');
    probe.behaviour = async () => undefined;
  });

  afterEach(async () => {
    await service?.close();
    service = undefined;
    await tap.close();
  });

  const boot = async () => {
    service = await bootService(probeModule(nats.url, probe));
    return service.app.get(MessagePublisher);
  };

  it('redelivers a nak-ed message and acks it once the handler succeeds', async () => {
    const deliveries: number[] = [];
    probe.behaviour = async (_envelope, context) => {
      deliveries.push(context.deliveryCount);
      if (context.deliveryCount === 1) throw new Error('database briefly unavailable');
    };
    const publisher = await boot();
    await publisher.publish(SUBJECTS.ingest.track, trackEnvelope());

    await waitFor(
      'the second delivery to succeed',
      async () => (await consumerState(nats.url)).ackPending === 0 && deliveries.length === 2,
    );
    expect(deliveries).toEqual([1, 2]);
    expect(tap.messages()).toHaveLength(0);
    expect(await telemetry.metric('messaging.consumer.processed')).toBeGreaterThanOrEqual(1);
  });

  it('dead-letters a message that keeps failing, with its error, while later messages keep flowing', async () => {
    const handled: string[] = [];
    probe.behaviour = async (envelope) => {
      if (envelope.data.event === 'Poison') throw new Error('cannot handle this one');
      handled.push(envelope.id);
    };
    const publisher = await boot();
    const poison = trackEnvelope('Poison');
    await publisher.publish(SUBJECTS.ingest.track, poison);
    const good = Array.from({ length: 5 }, () => trackEnvelope('Product Viewed'));
    for (const envelope of good) await publisher.publish(SUBJECTS.ingest.track, envelope);

    // The good ones are not held up by the retries of the poison message.
    await waitFor('the good messages', () => handled.length === good.length, 5_000);

    const dead = await tap.next<DeadLetterPayload>(SUBJECTS.dlq('identity'));
    expect(dead.envelope.data).toMatchObject({
      service: 'identity',
      consumer: 'identity__ingest_track',
      stream: 'INGEST',
      streamSequence: 1,
      subject: 'ingest.track',
      deliveryCount: 3,
      error: { name: 'Error', message: 'cannot handle this one', permanent: false },
    });
    expect(JSON.parse(dead.envelope.data.body)).toMatchObject({ id: poison.id });
    expect(dead.envelope.data.headers['Nats-Msg-Id']).toEqual([poison.id]);
    expect(dead.envelope.correlationId).toBe(poison.correlationId);

    await waitFor(
      'the poison message to be terminated',
      async () => (await consumerState(nats.url)).ackPending === 0,
    );
    await sleep(300);
    expect(tap.messages()).toHaveLength(1);
    expect(await telemetry.metric('messaging.consumer.dead_lettered')).toBeGreaterThanOrEqual(1);
  });

  it('dead-letters an invalid payload on its first delivery, without calling the handler', async () => {
    let calls = 0;
    probe.behaviour = async () => {
      calls++;
    };
    const publisher = await boot();
    const invalid = trackEnvelope();
    const broken = { ...invalid, data: { ...invalid.data, event: '' } } as Envelope<TrackPayload>;
    await publisher.publish(SUBJECTS.ingest.track, broken);

    const dead = await tap.next<DeadLetterPayload>(SUBJECTS.dlq('identity'));
    expect(dead.envelope.data.deliveryCount).toBe(1);
    expect(dead.envelope.data.error.permanent).toBe(true);
    expect(dead.envelope.data.error.message).toContain('data.event');
    expect(calls).toBe(0);
  });

  it('dead-letters a permanent domain error at once', async () => {
    const deliveries: number[] = [];
    probe.behaviour = async (_envelope, context) => {
      deliveries.push(context.deliveryCount);
      throw new PermanentError('unknown campaign', 'CAMPAIGN_NOT_FOUND');
    };
    const publisher = await boot();
    await publisher.publish(SUBJECTS.ingest.track, trackEnvelope());
    const dead = await tap.next<DeadLetterPayload>(SUBJECTS.dlq('identity'));
    expect(dead.envelope.data.error).toMatchObject({ code: 'CAMPAIGN_NOT_FOUND', permanent: true });
    expect(deliveries).toEqual([1]);
  });

  it('stores a republished message id once, and the handler sees it once', async () => {
    let calls = 0;
    probe.behaviour = async () => {
      calls++;
    };
    const publisher = await boot();
    const envelope = trackEnvelope();
    const first = await publisher.publish(SUBJECTS.ingest.track, envelope);
    const second = await publisher.publish(SUBJECTS.ingest.track, envelope);
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.sequence).toBe(first.sequence);
    await waitFor('the handler', () => calls === 1);
    await sleep(300);
    expect(calls).toBe(1);
    expect((await consumerState(nats.url)).storedMessages).toBe(1);
  });

  it('does not ack before the handler finishes: a consumer killed mid-handler gets the message back', async () => {
    const started: number[] = [];
    let release = () => {};
    const hung = new Promise<void>((resolve) => (release = resolve));
    probe.behaviour = async (_envelope, context) => {
      started.push(context.deliveryCount);
      await hung; // still working when the process "dies"
    };
    const publisher = await boot();
    await publisher.publish(SUBJECTS.ingest.track, trackEnvelope());
    await waitFor('the handler to start', () => started.length === 1);

    // Simulate a crash: the connection drops with the handler still running, nothing settles.
    const crashed = service!;
    service = undefined;
    await crashed.app.get(NatsConnection).nc.close();

    const redelivered: number[] = [];
    probe.behaviour = async (_envelope, context) => {
      redelivered.push(context.deliveryCount);
    };
    service = await bootService(probeModule(nats.url, probe));
    await waitFor('the redelivery after the ack wait', () => redelivered.length === 1, 10_000);
    expect(redelivered).toEqual([2]);
    await waitFor('the ack', async () => (await consumerState(nats.url)).ackPending === 0);
    release(); // the dead consumer's handler ends; its ack cannot reach the server any more
    await crashed.app.close().catch(() => undefined);
  });

  it('drains in-flight handlers on shutdown: each finishes and is acked, none redelivered', async () => {
    let running = 0;
    let finished = 0;
    probe.behaviour = async () => {
      running++;
      await sleep(400);
      finished++;
    };
    const publisher = await boot();
    for (let i = 0; i < 5; i++) await publisher.publish(SUBJECTS.ingest.track, trackEnvelope());
    await waitFor('all five handlers to start', () => running === 5);

    await service!.close();
    service = undefined;
    expect(finished).toBe(5);
    const state = await consumerState(nats.url);
    expect(state.ackPending).toBe(0);
    expect(state.pending).toBe(0);
    expect(state.redelivered).toBe(0);
  });

  it('carries the trace context across a publish/consume hop', async () => {
    telemetry.reset();
    let handlerTraceId: string | undefined;
    const { trace } = await import('@opentelemetry/api');
    probe.behaviour = async () => {
      handlerTraceId = trace.getActiveSpan()?.spanContext().traceId;
    };
    const publisher = await boot();
    const rootTraceId = await trace.getTracer('test').startActiveSpan('client request', async (span) => {
      await publisher.publish(SUBJECTS.ingest.track, trackEnvelope());
      span.end();
      return span.spanContext().traceId;
    });
    await waitFor('the handler', () => handlerTraceId !== undefined);
    expect(handlerTraceId).toBe(rootTraceId);

    await waitFor('the process span', () =>
      telemetry.spans().some((span) => span.name === 'process ingest.track'),
    );
    const send = telemetry.spans().find((span) => span.name === 'send ingest.track')!;
    const processSpan = telemetry.spans().find((span) => span.name === 'process ingest.track')!;
    expect(processSpan.spanContext().traceId).toBe(rootTraceId);
    expect(processSpan.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(processSpan.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'ingest.track',
      'messaging.consumer.group.name': 'identity__ingest_track',
    });
  });

  it('handles messages with the same ordering key one at a time, in stream order, and other keys alongside', async () => {
    const order: string[] = [];
    let concurrentSameKey = 0;
    let maxConcurrentSameKey = 0;
    let otherKeyOverlapped = false;
    probe.behaviour = async (envelope) => {
      const key = envelope.data.properties.orderKey as string;
      if (key === 'profile-a') {
        concurrentSameKey++;
        maxConcurrentSameKey = Math.max(maxConcurrentSameKey, concurrentSameKey);
        await sleep(20 + Math.random() * 30);
        order.push(envelope.data.properties.n as string);
        concurrentSameKey--;
      } else {
        otherKeyOverlapped ||= concurrentSameKey > 0;
      }
    };
    const publisher = await boot();
    const sequence = Array.from({ length: 8 }, (_, n) => String(n));
    for (const n of sequence) {
      await publisher.publish(
        SUBJECTS.ingest.track,
        trackEnvelope('Product Viewed', { orderKey: 'profile-a', n }),
      );
      await publisher.publish(
        SUBJECTS.ingest.track,
        trackEnvelope('Product Viewed', { orderKey: `other-${n}` }),
      );
    }
    await waitFor('all ordered messages', () => order.length === sequence.length);
    expect(order).toEqual(sequence);
    expect(maxConcurrentSameKey).toBe(1);
    expect(otherKeyOverlapped).toBe(true);
  });
});
