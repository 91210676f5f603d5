import { NoStreamError, PublishTimeoutError, StreamAcks, StreamRejectedError } from '@mesh/messaging';
import { type RunningServer, startNats } from '@mesh/testing';
import { DiscardPolicy, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { sleep } from './messaging-fixture.js';

const body = new TextEncoder().encode('{"hello":"stream"}');
const withId = (id: string) => {
  const h = headers();
  h.set('Nats-Msg-Id', id);
  return h;
};

describe('StreamAcks: JetStream publishes awaited over one reply subscription', () => {
  let nats: RunningServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'ACKS', subjects: ['acks.>'] });
    await jsm.streams.add({
      name: 'FULL',
      subjects: ['full.>'],
      max_msgs: 1,
      discard: DiscardPolicy.New,
    });
  });

  afterAll(async () => {
    await nc.close();
    await nats.stop();
  });

  it('stores a message and answers with its stream and sequence; the same id again is a duplicate', async () => {
    const acks = new StreamAcks(nc, 2_000, 3);
    const first = await acks.publish('acks.one', body, withId('one'));
    const again = await acks.publish('acks.one', body, withId('one'));
    const other = await acks.publish('acks.one', body, withId('two'));

    expect(first.stream).toBe('ACKS');
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ stream: 'ACKS', seq: first.seq, duplicate: true });
    expect(other.seq).toBe(first.seq + 1);
    expect(acks.inFlight).toBe(0);
  });

  it('settles hundreds of concurrent publishes, each with its own ack', async () => {
    const acks = new StreamAcks(nc, 2_000, 3);
    const results = await Promise.all(
      Array.from({ length: 500 }, (_unused, i) => acks.publish('acks.many', body, withId(`many-${i}`))),
    );
    expect(new Set(results.map((ack) => ack.seq)).size).toBe(500);
    expect(results.every((ack) => !ack.duplicate)).toBe(true);
  });

  it('refuses with the stream’s own reason when the stream will not take the message', async () => {
    const acks = new StreamAcks(nc, 2_000, 3);
    await acks.publish('full.a', body, withId('full-1'));
    const refused = acks.publish('full.a', body, withId('full-2'));

    await expect(refused).rejects.toBeInstanceOf(StreamRejectedError);
    await expect(refused).rejects.toMatchObject({ errCode: 10077 }); // maximum messages exceeded
  });

  it('sends again after "no responders", and fails once every attempt went unheard', async () => {
    const acks = new StreamAcks(nc, 2_000, 2);
    const started = performance.now();
    await expect(acks.publish('nostream.x', body, withId('lost'))).rejects.toBeInstanceOf(NoStreamError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(200); // one pause before the second attempt
  });

  it('resends an unanswered publish with the same message id, and a late answer to the first settles it', async () => {
    const seen: string[] = [];
    // A stand-in for a slow stream: it answers the first attempt only, after the deadline.
    const responder = nc.subscribe('slow.x', {
      callback: (_error, msg) => {
        seen.push(msg.headers!.get('Nats-Msg-Id'));
        if (seen.length === 1) setTimeout(() => msg.respond(JSON.stringify({ stream: 'SLOW', seq: 7 })), 450);
      },
    });
    const acks = new StreamAcks(nc, 300, 3);

    await expect(acks.publish('slow.x', body, withId('slow-1'))).resolves.toEqual({
      stream: 'SLOW',
      seq: 7,
      duplicate: false,
    });
    expect(seen).toEqual(['slow-1', 'slow-1']);
    responder.unsubscribe();
  });

  it('fails a publish that nothing acknowledges after every attempt', async () => {
    let attempts = 0;
    const silent = nc.subscribe('silent.x', {
      callback: () => {
        attempts++;
      },
    });
    const acks = new StreamAcks(nc, 200, 3);

    await expect(acks.publish('silent.x', body, withId('silent-1'))).rejects.toBeInstanceOf(
      PublishTimeoutError,
    );
    expect(attempts).toBe(3);
    expect(acks.inFlight).toBe(0);
    silent.unsubscribe();
  });

  it('fails what is in flight when the connection closes, and refuses publishes after', async () => {
    const own = await connect({ servers: nats.url });
    own.subscribe('void.x', { callback: () => undefined });
    const acks = new StreamAcks(own, 10_000, 3);
    const waiting = acks.publish('void.x', body, withId('void-1'));
    await sleep(50);
    await own.close();

    await expect(waiting).rejects.toThrow(/closed/);
    await expect(acks.publish('void.x', body, withId('void-2'))).rejects.toThrow(/closed/);
  });
});
