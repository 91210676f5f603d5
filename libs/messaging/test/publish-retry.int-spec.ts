import { SUBJECTS } from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { bootService, type BootedService, type RunningServer, startNats } from '@mesh/testing';
import { consumerState, type Probe, probeModule, sleep, trackEnvelope } from './messaging-fixture.js';

describe('publishing through a NATS outage', () => {
  let nats: RunningServer;
  let service: BootedService;
  const handled: string[] = [];
  const probe: Probe = {
    behaviour: async (envelope) => {
      handled.push(envelope.id);
    },
  };

  beforeAll(async () => {
    nats = await startNats();
    service = await bootService(
      probeModule(nats.url, probe, { publishTimeoutMs: 1_000, publishAttempts: 10 }),
    );
  });

  afterAll(async () => {
    await service.close();
    await nats.stop();
  });

  it('retries a timed-out publish with the same message id until the server is back, storing it once', async () => {
    const publisher = service.app.get(MessagePublisher);
    const envelope = trackEnvelope();

    await nats.kill();
    const publishing = publisher.publish(SUBJECTS.ingest.track, envelope);
    await sleep(1_500); // at least one attempt times out while the server is down
    await nats.restart();

    const published = await publishing;
    expect(published.stream).toBe('INGEST');
    const again = await publisher.publish(SUBJECTS.ingest.track, envelope);
    expect(again.duplicate).toBe(true);
    expect((await consumerState(nats.url)).storedMessages).toBe(1);
  });
});
