import { Inject, Injectable, Logger } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { IngestEnv } from '../config.js';

/** The outcome of one request against a limit, with what the RateLimit headers say. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets (and, when refused, until a retry can succeed). */
  resetSeconds: number;
}

const FAILURE_WINDOW_SECONDS = 60;
/** How long an IP without refused credentials is not asked about again. */
const CLEAN_IP_MS = 1_000;
const MAX_CLEAN_IPS = 100_000;

/**
 * Fixed-window counters in Redis (rate-limiter-flexible), so every ingest replica shares them:
 * requests a second per source, and refused credentials a minute per IP.
 */
@Injectable()
export class RateLimiterService {
  private readonly logger = new Logger(RateLimiterService.name);
  private readonly perSource = new Map<number, RateLimiterRedis>();
  private readonly authFailures: RateLimiterRedis;
  private readonly cleanIps = new Map<string, number>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(IngestEnv) private readonly env: IngestEnv,
  ) {
    this.authFailures = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: 'rl-auth-ip',
      points: env.INGEST_AUTH_FAILURES_PER_MINUTE_PER_IP,
      duration: FAILURE_WINDOW_SECONDS,
    });
  }

  /** Counts one request of the source against its limit (or the service's default). */
  async consumeSource(
    sourceId: string,
    perSecond = this.env.INGEST_DEFAULT_RATE_LIMIT_PER_SECOND,
  ): Promise<RateDecision> {
    return this.decide(this.sourceLimiter(perSecond), sourceId, perSecond);
  }

  /**
   * Whether an IP has sent too many refused credentials in the last minute (counts nothing). An IP
   * with no refusal at all is taken as clean for the next CLEAN_IP_MS without asking Redis (most
   * calls come from such IPs); one with a refusal is asked about on every call, and a refusal seen
   * here forgets the IP at once. So only refusals through other replicas in that last second can
   * be missed, for that second.
   */
  async ipBlocked(ip: string, now = Date.now()): Promise<RateDecision | undefined> {
    const cleanUntil = this.cleanIps.get(ip);
    if (cleanUntil !== undefined && cleanUntil > now) return undefined;
    try {
      const state = await this.authFailures.get(ip);
      if (!state) {
        if (this.cleanIps.size >= MAX_CLEAN_IPS) this.cleanIps.clear();
        this.cleanIps.set(ip, now + CLEAN_IP_MS);
      }
      if (!state || state.consumedPoints <= this.env.INGEST_AUTH_FAILURES_PER_MINUTE_PER_IP) return undefined;
      return {
        allowed: false,
        limit: this.env.INGEST_AUTH_FAILURES_PER_MINUTE_PER_IP,
        remaining: 0,
        resetSeconds: Math.max(1, Math.ceil(state.msBeforeNext / 1000)),
      };
    } catch (error) {
      this.logger.warn(`rate limits unavailable, not applied: ${(error as Error).message}`);
      return undefined;
    }
  }

  async recordAuthFailure(ip: string): Promise<void> {
    this.cleanIps.delete(ip);
    await this.authFailures.penalty(ip, 1).catch((error: Error) => {
      this.logger.warn(`could not count a refused credential: ${error.message}`);
    });
  }

  private sourceLimiter(perSecond: number): RateLimiterRedis {
    let limiter = this.perSource.get(perSecond);
    if (!limiter) {
      // One key space per limit, so changing a source's limit starts it on a fresh window.
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: `rl-source-${perSecond}`,
        points: perSecond,
        duration: 1,
      });
      this.perSource.set(perSecond, limiter);
    }
    return limiter;
  }

  private async decide(limiter: RateLimiterRedis, key: string, limit: number): Promise<RateDecision> {
    try {
      const result = await limiter.consume(key, 1);
      return {
        allowed: true,
        limit,
        remaining: result.remainingPoints,
        resetSeconds: Math.ceil(result.msBeforeNext / 1000),
      };
    } catch (outcome) {
      if (outcome instanceof RateLimiterRes) {
        return {
          allowed: false,
          limit,
          remaining: 0,
          resetSeconds: Math.max(1, Math.ceil(outcome.msBeforeNext / 1000)),
        };
      }
      // Redis down: take the event rather than lose it; the limit is a protection, not a contract.
      this.logger.warn(`rate limits unavailable, not applied: ${(outcome as Error).message}`);
      return { allowed: true, limit, remaining: limit, resetSeconds: 1 };
    }
  }
}
