import { type Infra, startInfra, waitFor } from '@mesh/testing';
import { Redis } from 'ioredis';
import { ChangeNotices } from './change-notices.js';

describe('change notices between replicas (real Redis)', () => {
  let infra: Infra;
  const clients: Redis[] = [];
  const notices: ChangeNotices[] = [];

  const replica = (checkEveryMs?: number) => {
    const redis = new Redis(infra.redisUrl!, { keyPrefix: 'enrichment:' });
    const replicaNotices = new ChangeNotices(redis, checkEveryMs === undefined ? {} : { checkEveryMs });
    clients.push(redis);
    notices.push(replicaNotices);
    return replicaNotices;
  };

  beforeAll(async () => {
    infra = await startInfra({ redis: true });
  }, 60_000);
  afterAll(async () => {
    for (const replicaNotices of notices) replicaNotices.onApplicationShutdown();
    for (const redis of clients) redis.disconnect();
    await infra?.stop();
  });

  it('reloads every replica once per change, and after its subscription was cut', async () => {
    const reloads = { a: 0, b: 0, segments: 0 };
    const a = replica();
    const b = replica();
    await a.listen('campaigns', async () => void reloads.a++);
    await b.listen('campaigns', async () => void reloads.b++);
    await b.listen('segments', async () => void reloads.segments++);

    await a.announce('campaigns');
    await waitFor('both replicas to reload', () => reloads.a === 1 && reloads.b === 1);
    expect(reloads.segments).toBe(0);

    // A notice may have been missed while b's subscription was down: it reloads when it is back.
    const admin = new Redis(infra.redisUrl!);
    clients.push(admin);
    await admin.client('KILL', 'TYPE', 'pubsub');
    await waitFor('b to reload after reconnecting', () => reloads.b === 2 && reloads.segments === 1);
  });

  it('tries a failed reload again', async () => {
    let attempts = 0;
    const a = replica();
    await a.listen('broken', async () => {
      attempts++;
      if (attempts === 1) throw new Error('store away');
    });
    await a.announce('broken');
    await waitFor('the reload to succeed on its second attempt', () => attempts === 2, 5_000);
  });

  it('reads again at its next check when a notice was lost, and not after notices it heard', async () => {
    const reloads: (string | undefined)[] = [];
    const a = replica(300);
    await a.listen('lossy', async (message) => void reloads.push(message));
    await a.announce('lossy', 'first');
    await waitFor('the notice', () => reloads.length === 1);
    // Heard: the counter moved by as many changes as were heard, so the checks read nothing more.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(reloads).toEqual(['first']);

    // A change counted whose notice never came (the publish failed after the change was stored).
    const admin = new Redis(infra.redisUrl!, { keyPrefix: 'enrichment:' });
    clients.push(admin);
    await admin.incr('changed:lossy:version');
    await waitFor('the check to find the missed change', () => reloads.length === 2, 2_000);
    expect(reloads[1]).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(reloads).toHaveLength(2);
  });
});
