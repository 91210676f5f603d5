import { type Infra, startInfra } from '@mesh/testing';
import { Redis } from 'ioredis';
import { ProfileClaims } from '../src/resolution/profile-claims.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The claims that serialize changes to a profile across replicas, against a real redis-server. */
describe('identity: profile claims in Redis', () => {
  let infra: Infra;
  const clients: Redis[] = [];
  /** A replica's view: its own connection, with identity's key prefix. */
  const replica = (ttlMs = 15_000) => {
    const redis = new Redis(infra.redisUrl!, { keyPrefix: 'identity:' });
    clients.push(redis);
    return { redis, claims: new ProfileClaims(redis, ttlMs) };
  };

  beforeAll(async () => {
    infra = await startInfra({ redis: true });
  }, 30_000);
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.quit()));
    await infra?.stop();
  });

  it('lets one of two claimants of a profile work at a time, and leaves no claim behind', async () => {
    const [a, b] = [replica(), replica()];
    const log: string[] = [];
    const work = (name: string) => async () => {
      log.push(`${name} in`);
      await sleep(50);
      log.push(`${name} out`);
      return name;
    };

    const results = await Promise.all([
      a.claims.withClaims(['p1', 'p2'], work('a')),
      b.claims.withClaims(['p2', 'p1'], work('b')),
    ]);

    expect(results).toEqual(['a', 'b']);
    const first = log[0]!.split(' ')[0]!;
    const second = first === 'a' ? 'b' : 'a';
    expect(log).toEqual([`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
    expect(await a.redis.exists('claim:p1', 'claim:p2')).toBe(0);
  });

  it('releases the claim when the work fails', async () => {
    const { redis, claims } = replica();
    await expect(
      claims.withClaims(['p3'], () => Promise.reject(new Error('the store went away'))),
    ).rejects.toThrow('the store went away');
    expect(await redis.exists('claim:p3')).toBe(0);
  });

  it('lets a claim left by a crashed holder expire, and an expired holder never releases its successor’s', async () => {
    const crashed = replica(300);
    const next = replica(300);
    // A holder that stops without releasing (a kill -9 in the middle of its work).
    let resume!: () => void;
    const stuck = crashed.claims.withClaims(['p4'], () => new Promise<void>((resolve) => (resume = resolve)));
    await sleep(20);

    const started = Date.now();
    let successorDone!: () => void;
    const successorHolds = new Promise<void>((resolve) => (successorDone = resolve));
    const successor = next.claims.withClaims(['p4'], async () => {
      const waited = Date.now() - started;
      // The crashed holder's release now comes too late: it must not free the successor's claim.
      resume();
      await stuck;
      expect(await next.redis.exists('claim:p4')).toBe(1);
      successorDone();
      return waited;
    });
    await successorHolds;
    const waited = await successor;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(2_000);
    expect(await next.redis.exists('claim:p4')).toBe(0);
  });
});
