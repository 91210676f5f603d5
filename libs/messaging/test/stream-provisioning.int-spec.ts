import { SUBJECTS } from '@mesh/contracts';
import { MessagePublisher, STREAMS } from '@mesh/messaging';
import { bootService, type RunningServer, startNats } from '@mesh/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, millis } from '@nats-io/transport-node';
import { type Probe, probeModule, trackEnvelope } from './messaging-fixture.js';

describe('stream provisioning at boot', () => {
  let nats: RunningServer;
  const probe: Probe = { behaviour: async () => undefined };

  beforeAll(async () => {
    nats = await startNats();
  });

  afterAll(() => nats.stop());

  const streams = async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      return await Promise.all(STREAMS.map((stream) => jsm.streams.info(stream.name)));
    } finally {
      await nc.close();
    }
  };

  it('creates every stream of the table with file storage, a duplicate window and limits', async () => {
    const service = await bootService(probeModule(nats.url, probe, { streamMaxBytes: 64 * 1024 * 1024 }));
    await service.close();
    const infos = await streams();
    expect(infos.map((info) => info.config.name)).toEqual(STREAMS.map((stream) => stream.name));
    for (const info of infos) {
      expect(info.config.storage).toBe('file');
      expect(millis(info.config.duplicate_window)).toBe(120_000);
      expect(info.config.max_bytes).toBe(64 * 1024 * 1024);
      expect(info.config.max_age).toBeGreaterThan(0);
      expect(info.config.max_msg_size).toBe(1024 * 1024);
    }
  });

  it('updates the streams when the table or the limits change, keeping their messages', async () => {
    const first = await bootService(probeModule(nats.url, probe, { streamMaxBytes: 64 * 1024 * 1024 }));
    await first.app.get(MessagePublisher).publish(SUBJECTS.ingest.track, trackEnvelope());
    await first.close();

    // Boots of several services at once, and again later: idempotent.
    const [second, third] = await Promise.all([
      bootService(probeModule(nats.url, probe, { streamMaxBytes: 32 * 1024 * 1024 })),
      bootService(probeModule(nats.url, probe, { streamMaxBytes: 32 * 1024 * 1024 })),
    ]);
    await Promise.all([second.close(), third.close()]);

    const ingest = (await streams()).find((info) => info.config.name === 'INGEST')!;
    expect(ingest.config.max_bytes).toBe(32 * 1024 * 1024);
    expect(ingest.state.messages).toBeGreaterThanOrEqual(1);
  });
});
