import { type Infra, startInfra, uniqueName } from '@mesh/testing';
import { Redis } from 'ioredis';
import { LeasedWindowLimiter } from './leased-window-limiter.js';

describe('LeasedWindowLimiter (real Redis)', () => {
  let infra: Infra;
  let redis: Redis;

  beforeAll(async () => {
    infra = await startInfra({ redis: true });
    redis = new Redis(infra.redisUrl!, { keyPrefix: 'limiter-test:', enableAutoPipelining: true });
  });

  afterAll(async () => {
    redis?.disconnect();
    await infra?.stop();
  });

  /** A replica's limiter, on its own connection. */
  const replica = (windowMs: number) => {
    const connection = redis.duplicate();
    return { limiter: new LeasedWindowLimiter(connection, 'rl', windowMs), connection };
  };

  it('takes exactly the limit of a quiet source, one Redis call per call, and refuses the rest with the reset', async () => {
    const { limiter, connection } = replica(5_000);
    const key = uniqueName('quiet');
    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await limiter.take(key, 3));
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, true, false, false]);
    expect(decisions.map((decision) => decision.remaining)).toEqual([2, 1, 0, 0, 0]);
    expect(decisions[3]!.resetSeconds).toBeGreaterThanOrEqual(1);
    expect(decisions[3]!.resetSeconds).toBeLessThanOrEqual(5);
    // A limit under 40 a window leases one call at a time; a used-up window is refused locally.
    expect(limiter.leasesSent).toBe(4);
    connection.disconnect();
  });

  it('never lets two replicas together take more than the limit of a window, with few Redis calls', async () => {
    const replicas = [replica(10_000), replica(10_000)];
    const key = uniqueName('busy');
    const limit = 2_000;
    const decisions = await Promise.all(
      Array.from({ length: 6_000 }, (_, i) => replicas[i % 2]!.limiter.take(key, limit)),
    );
    const allowed = decisions.filter((decision) => decision.allowed).length;
    // All in one window: at most the limit, and at most a chunk (limit / 20) per replica unused.
    expect(allowed).toBeLessThanOrEqual(limit);
    expect(allowed).toBeGreaterThanOrEqual(limit - 2 * (limit / 20));
    expect(Number(await redis.get(`rl:${limit}:${key}`))).toBeLessThanOrEqual(limit);
    const leases = replicas.reduce((sum, { limiter }) => sum + limiter.leasesSent, 0);
    expect(leases).toBeLessThan(allowed / 10);
    for (const { connection } of replicas) connection.disconnect();
  });

  it('starts a new window when the last one ends', async () => {
    const { limiter, connection } = replica(1_000);
    const key = uniqueName('windows');
    expect((await limiter.take(key, 1)).allowed).toBe(true);
    expect((await limiter.take(key, 1)).allowed).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await limiter.take(key, 1)).allowed).toBe(true);
    connection.disconnect();
  });

  it('keeps limits of one source apart when its limit changes', async () => {
    const { limiter, connection } = replica(5_000);
    const key = uniqueName('changed');
    expect((await limiter.take(key, 1)).allowed).toBe(true);
    expect((await limiter.take(key, 1)).allowed).toBe(false);
    expect((await limiter.take(key, 2)).allowed).toBe(true);
    connection.disconnect();
  });

  it('rejects when Redis cannot be asked, so the caller decides', async () => {
    const connection = new Redis(infra.redisUrl!, { lazyConnect: true, maxRetriesPerRequest: 0 });
    connection.disconnect();
    const limiter = new LeasedWindowLimiter(connection, 'rl', 1_000);
    await expect(limiter.take(uniqueName('down'), 10)).rejects.toThrow();
  });
});
