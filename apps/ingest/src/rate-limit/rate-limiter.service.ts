import { Inject, Injectable, Logger } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { IngestEnv } from '../config.js';
import { LeasedWindowLimiter, type WindowDecision } from './leased-window-limiter.js';

/** The outcome of one request against a limit, with what the RateLimit headers say. */
export type RateDecision = WindowDecision;

const FAILURE_WINDOW_SECONDS = 60;
/** How long an IP without refused credentials is not asked about again. */
const CLEAN_IP_MS = 1_000;
const MAX_CLEAN_IPS = 100_000;

/**
 * Limits every ingest replica shares through Redis: calls a second per source (fixed windows, leased
 * to each replica in chunks: LeasedWindowLimiter), and refused credentials a minute per IP
 * (rate-limiter-flexible).
 */
@Injectable()
export class RateLimiterService {
  private readonly logger = new Logger(RateLimiterService.name);
  private readonly perSource: LeasedWindowLimiter;
  private readonly authFailures: RateLimiterRedis;
  private readonly cleanIps = new Map<string, number>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(IngestEnv) private readonly env: IngestEnv,
  ) {
    this.perSource = new LeasedWindowLimiter(redis, 'rl-source');
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
    try {
      return await this.perSource.take(sourceId, perSecond);
    } catch (error) {
      // Redis down: take the event rather than lose it; the limit is a protection, not a contract.
      this.logger.warn(`rate limits unavailable, not applied: ${(error as Error).message}`);
      return { allowed: true, limit: perSecond, remaining: perSecond, resetSeconds: 1 };
    }
  }

  /**
   * Whether an IP has sent too many refused credentials in the last minute (counts nothing). An IP
   * with no refusal at all is taken as clean for the next CLEAN_IP_MS without asking Redis (most
   * calls come from such IPs); one with a refusal is asked about on every call, and a refusal seen
   * here forgets the IP at once. So only refusals through other replicas in that last second can
   * be missed, for that second.
   */
  /** Whether the IP had no refused credentials when last asked, within CLEAN_IP_MS (no Redis call). */
  knownClean(ip: string, now = Date.now()): boolean {
    const cleanUntil = this.cleanIps.get(ip);
    return cleanUntil !== undefined && cleanUntil > now;
  }

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
}
