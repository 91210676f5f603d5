import { SUBJECTS } from '@mesh/contracts';
import { DeadLetters, MessagePublisher } from '@mesh/messaging';
import { bootService, type BootedService, type RunningServer, startNats, waitFor } from '@mesh/testing';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { consumerState, type Probe, probeModule, trackEnvelope } from './messaging-fixture.js';

describe('dead letters, for operators', () => {
  let nats: RunningServer;
  let service: BootedService;
  let nc: NatsConnection;
  let broken = true;
  const handled: string[] = [];
  const probe: Probe = {
    behaviour: async (envelope) => {
      if (broken) throw new Error('the database rejects this');
      handled.push(envelope.id);
    },
  };

  beforeAll(async () => {
    nats = await startNats();
    service = await bootService(probeModule(nats.url, probe));
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await nc.close();
    await service.close();
    await nats.stop();
  });

  it('lists what a service gave up on and, once the cause is fixed, replays it through the consumers', async () => {
    const deadLetters = new DeadLetters(nc);
    expect(await deadLetters.list('identity')).toEqual([]);
    expect(await deadLetters.depth('identity')).toBe(0);

    const envelope = trackEnvelope();
    await service.app.get(MessagePublisher).publish(SUBJECTS.ingest.track, envelope);
    const [entry] = await waitFor('the dead letter', async () => {
      const entries = await deadLetters.list('identity');
      return entries.length === 1 && entries;
    });
    expect(entry!.deadLetter).toMatchObject({
      subject: 'ingest.track',
      deliveryCount: 3,
      error: { message: 'the database rejects this' },
    });
    expect(await deadLetters.list('delivery')).toEqual([]);
    // The DLQ depth gauge's figure, per service.
    expect(await deadLetters.depth('identity')).toBe(1);
    expect(await deadLetters.depth('delivery')).toBe(0);

    broken = false;
    const replayed = await deadLetters.replay(entry!.sequence);
    expect(replayed).toMatchObject({
      subject: 'ingest.track',
      from: 'stream',
      messageId: `${envelope.id}:replay:${entry!.sequence}`,
    });
    await waitFor('the replayed message to be handled', () => handled.includes(envelope.id));
    await waitFor('the consumer to settle', async () => (await consumerState(nats.url)).ackPending === 0);
    await expect(deadLetters.replay(9_999)).rejects.toThrow(/no dead letter #9999/);
  });
});
