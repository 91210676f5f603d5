import { Inject, Injectable, Logger } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { Clock } from '../shared/clock.js';
import { ENRICHMENT_PROVIDERS, type EnrichmentProvider } from './enrichment-provider.js';

/**
 * Asks each provider about a profile's traits: answers come from the Redis cache when known, else
 * from the provider within its rate limit (over the limit or failing: asked again on a later event).
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
    const answers: Record<string, Record<string, unknown>> = {};
    for (const provider of this.providers) {
      const key = provider.keyOf(traits);
      if (key === undefined) continue;
      const answer = await this.answer(provider, key);
      if (answer) answers[provider.name] = answer;
    }
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
      const answer = await provider.lookup(key);
      await this.redis.set(cacheKey, JSON.stringify(answer), 'EX', provider.ttlSeconds);
      return answer;
    } catch (error) {
      this.logger.warn(`${provider.name} lookup failed: ${String(error)}`);
      return undefined;
    }
  }
}
