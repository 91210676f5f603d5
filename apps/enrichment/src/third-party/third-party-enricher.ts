import { Inject, Injectable, Logger } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { Clock } from '../shared/clock.js';
import { ENRICHMENT_PROVIDERS, type EnrichmentProvider } from './enrichment-provider.js';

/** How long a provider's lookup may take unless it says otherwise. */
const DEFAULT_TIMEOUT_MS = 2_000;

/**
 * Asks the providers about a profile's traits, all at once: answers come from the Redis cache when
 * known, else from the provider within its rate limit and its time limit. Over the rate limit,
 * failing or too slow, a provider is left out of this event and asked again on a later one: a slow
 * third party delays an event by its time limit at most, and never holds the profile's stream.
 */
@Injectable()
export class ThirdPartyEnricher {
  private readonly logger = new Logger(ThirdPartyEnricher.name);

  constructor(
    @Inject(ENRICHMENT_PROVIDERS) private readonly providers: EnrichmentProvider[],
    @Inject(REDIS) private readonly redis: Redis,
    private readonly clock: Clock,
  ) {}

  /** Provider name → its answer, for the providers that had a question and an answer. */
  async enrich(traits: Record<string, unknown>): Promise<Record<string, Record<string, unknown>>> {
    const asked = await Promise.all(
      this.providers.map(async (provider) => {
        const key = provider.keyOf(traits);
        return [provider.name, key === undefined ? undefined : await this.answer(provider, key)] as const;
      }),
    );
    const answers: Record<string, Record<string, unknown>> = {};
    for (const [name, answer] of asked) if (answer) answers[name] = answer;
    return answers;
  }

  private async answer(
    provider: EnrichmentProvider,
    key: string,
  ): Promise<Record<string, unknown> | undefined> {
    const cacheKey = `third-party:${provider.name}:${key}`;
    const cached = await this.redis.get(cacheKey);
    if (cached !== null) return JSON.parse(cached) as Record<string, unknown>;
    const second = Math.floor(this.clock.now() / 1000);
    const budget = `third-party-rate:${provider.name}:${second}`;
    const [[, used]] = (await this.redis.multi().incr(budget).expire(budget, 2).exec()) as [[null, number]];
    if (used > provider.perSecond) return undefined;
    try {
      const answer = await this.withinLimit(provider, provider.lookup(key));
      await this.redis.set(cacheKey, JSON.stringify(answer), 'EX', provider.ttlSeconds);
      return answer;
    } catch (error) {
      this.logger.warn(`${provider.name} lookup failed: ${String(error)}`);
      return undefined;
    }
  }

  private async withinLimit<T>(provider: EnrichmentProvider, lookup: Promise<T>): Promise<T> {
    const limitMs = provider.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${limitMs} ms`)), limitMs);
    });
    lookup.catch(() => undefined); // a late failure after the limit has nobody waiting for it
    try {
      return await Promise.race([lookup, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
