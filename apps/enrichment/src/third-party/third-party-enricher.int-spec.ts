import { type Infra, startInfra, uniqueName } from '@mesh/testing';
import { Redis } from 'ioredis';
import { Clock } from '../shared/clock.js';
import { type EnrichmentProvider } from './enrichment-provider.js';
import { ThirdPartyEnricher } from './third-party-enricher.js';

/** A stand-in third party: answers after `delayMs` (never, when undefined), or fails; counts lookups. */
function provider(
  options: Partial<EnrichmentProvider> & { delayMs?: number | undefined; fails?: boolean } = {},
) {
  const asked: string[] = [];
  const fake: EnrichmentProvider & { asked: string[] } = {
    name: options.name ?? uniqueName('provider'),
    perSecond: options.perSecond ?? 100,
    ttlSeconds: 60,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    asked,
    keyOf: (traits) => (typeof traits.email === 'string' ? traits.email.split('@')[1] : undefined),
    lookup: (key) => {
      asked.push(key);
      if (options.fails) return Promise.reject(new Error('the provider answered 500'));
      if (!('delayMs' in options)) return Promise.resolve({ company: `${key} Inc.` });
      return new Promise((resolve) => {
        if (options.delayMs !== undefined)
          setTimeout(() => resolve({ company: `${key} Inc.` }), options.delayMs).unref();
      });
    },
  };
  return fake;
}

describe('ThirdPartyEnricher (real Redis)', () => {
  let infra: Infra;
  let redis: Redis;

  beforeAll(async () => {
    infra = await startInfra({ redis: true });
    redis = new Redis(infra.redisUrl!);
  });

  afterAll(async () => {
    redis?.disconnect();
    await infra?.stop();
  });

  it('asks a provider once per key, then answers from the cache', async () => {
    const fast = provider();
    const enricher = new ThirdPartyEnricher([fast], redis, new Clock());

    const first = await enricher.enrich({ email: 'ada@acme.test' });
    const second = await enricher.enrich({ email: 'grace@acme.test' });

    expect(first).toEqual({ [fast.name]: { company: 'acme.test Inc.' } });
    expect(second).toEqual(first);
    expect(fast.asked).toEqual(['acme.test']);
    expect(await enricher.enrich({ name: 'no email' })).toEqual({});
  });

  it('goes on without a provider that does not answer in time, and asks it again on a later event', async () => {
    const never = provider({ delayMs: undefined, timeoutMs: 150 });
    const fast = provider();
    const enricher = new ThirdPartyEnricher([never, fast], redis, new Clock());

    const started = performance.now();
    const answers = await enricher.enrich({ email: 'ada@slow.test' });

    expect(performance.now() - started).toBeLessThan(1_000);
    expect(answers).toEqual({ [fast.name]: { company: 'slow.test Inc.' } });
    await enricher.enrich({ email: 'ada@slow.test' });
    expect(never.asked).toEqual(['slow.test', 'slow.test']); // nothing was cached for it
  });

  it('asks the providers side by side, so one slow provider is the wait, not the sum', async () => {
    const slowA = provider({ delayMs: 300 });
    const slowB = provider({ delayMs: 300 });
    const enricher = new ThirdPartyEnricher([slowA, slowB], redis, new Clock());

    const started = performance.now();
    const answers = await enricher.enrich({ email: 'ada@both.test' });

    expect(Object.keys(answers).sort()).toEqual([slowA.name, slowB.name].sort());
    expect(performance.now() - started).toBeLessThan(550);
  });

  it('leaves out a failing provider without caching its failure', async () => {
    const failing = provider({ fails: true });
    const enricher = new ThirdPartyEnricher([failing], redis, new Clock());

    expect(await enricher.enrich({ email: 'ada@down.test' })).toEqual({});
    expect(await enricher.enrich({ email: 'ada@down.test' })).toEqual({});
    expect(failing.asked).toEqual(['down.test', 'down.test']);
  });

  it('keeps to a provider’s lookups a second, across every replica, and asks again the next second', async () => {
    const limited = provider({ perSecond: 2 });
    const clock = new Clock();
    clock.advance(1_000 - (clock.now() % 1_000) + 100_000); // the start of a second, well away from others
    const replicas = [
      new ThirdPartyEnricher([limited], redis, clock),
      new ThirdPartyEnricher([limited], redis, clock),
    ];

    const answers = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((domain, i) => replicas[i % 2]!.enrich({ email: `x@${domain}.test` })),
    );

    expect(limited.asked).toHaveLength(2);
    expect(answers.filter((answer) => limited.name in answer)).toHaveLength(2);
    clock.advance(1_000);
    const later = await replicas[0]!.enrich({ email: 'x@e.test' });
    expect(later[limited.name]).toEqual({ company: 'e.test Inc.' });
  });
});
