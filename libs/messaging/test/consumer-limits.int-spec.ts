import { type DeadLetterPayload, type Envelope, SUBJECTS, type TrackPayload } from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
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

/** The consumer at its limits: every slot busy, slow handlers, failing messages, huge poison. */
describe('libs/messaging under pressure', () => {
  let nats: RunningServer;
  let service: BootedService | undefined;
  let tap: MessageTap;
  const probe: Probe = { behaviour: async () => undefined };

  beforeAll(async () => {
    nats = await startNats();
  });

  afterAll(() => nats.stop());

  beforeEach(async () => {
    await resetJetStream(nats.url);
    tap = await MessageTap.open(nats.url, 'dlq.>');
  });

  afterEach(async () => {
    await service?.close();
    service = undefined;
    await tap.close();
  });

  it('handles every message once when handlers outlast the ack wait and messages outnumber the slots', async () => {
    const deliveries = new Map<string, number[]>();
    probe.behaviour = async (envelope, context) => {
      deliveries.set(envelope.id, [...(deliveries.get(envelope.id) ?? []), context.deliveryCount]);
      await sleep(1_600);
    };
    service = await bootService(probeModule(nats.url, probe, { concurrency: 2, ackWaitMs: 1_000 }));
    const publisher = service.app.get(MessagePublisher);
    const envelopes = Array.from({ length: 6 }, () => trackEnvelope());
    for (const envelope of envelopes) await publisher.publish(SUBJECTS.ingest.track, envelope);

    await waitFor(
      'all six handled and acked',
      async () => {
        const state = await consumerState(nats.url);
        return deliveries.size === 6 && state.pending === 0 && state.ackPending === 0;
      },
      20_000,
    );
    for (const envelope of envelopes) expect(deliveries.get(envelope.id)).toEqual([1]);
    expect((await consumerState(nats.url)).redelivered).toBe(0);
  }, 30_000);

  it('keeps handling new messages while more failing messages than slots wait for their retries', async () => {
    const good: number[] = [];
    probe.behaviour = async (envelope) => {
      if (envelope.data.event === 'Poison') throw new Error('still failing');
      good.push(Date.now());
    };
    service = await bootService(
      probeModule(nats.url, probe, {
        concurrency: 2,
        retry: { maxDeliver: 5, baseDelayMs: 3_000, maxDelayMs: 10_000 },
      }),
    );
    const publisher = service.app.get(MessagePublisher);
    for (let i = 0; i < 4; i++) await publisher.publish(SUBJECTS.ingest.track, trackEnvelope('Poison'));
    await sleep(300);
    const sent = Date.now();
    await publisher.publish(SUBJECTS.ingest.track, trackEnvelope('Product Viewed'));

    await waitFor('the good message', () => good.length === 1, 2_500);
    expect(good[0]! - sent).toBeLessThan(2_000);
  });

  it('stops within the drain timeout even when every slot is taken by a hung handler', async () => {
    let release = () => {};
    const hung = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    probe.behaviour = async () => {
      started++;
      await hung;
    };
    const booted = await bootService(probeModule(nats.url, probe, { concurrency: 2, drainTimeoutMs: 1_000 }));
    const publisher = booted.app.get(MessagePublisher);
    for (let i = 0; i < 3; i++) await publisher.publish(SUBJECTS.ingest.track, trackEnvelope());
    await waitFor('both slots busy', () => started === 2);

    const stopping = performance.now();
    await booted.close();
    expect(performance.now() - stopping).toBeLessThan(3_000);
    release();
  });

  it('dead-letters a huge invalid message with a cut body, its size and hash, and terminates it', async () => {
    probe.behaviour = async () => undefined;
    service = await bootService(probeModule(nats.url, probe));
    const valid = trackEnvelope();
    const huge = {
      ...valid,
      data: { ...valid.data, event: '', properties: { blob: '"'.repeat(400_000) } },
    } as Envelope<TrackPayload>;
    await service.app.get(MessagePublisher).publish(SUBJECTS.ingest.track, huge);

    const dead = await tap.next<DeadLetterPayload>(SUBJECTS.dlq('identity'));
    expect(dead.envelope.data.bodyTruncated).toBe(true);
    expect(dead.envelope.data.bodyBytes).toBeGreaterThan(800_000);
    expect(dead.envelope.data.body.length).toBeLessThanOrEqual(64 * 1024);
    expect(dead.envelope.data.bodySha256).toMatch(/^[0-9a-f]{64}$/);
    await waitFor(
      'the message to be terminated',
      async () => (await consumerState(nats.url)).ackPending === 0,
    );
  });
});
