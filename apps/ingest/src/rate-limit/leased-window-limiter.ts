import { type Redis } from 'ioredis';

/** What one call gets against a limit: the RateLimit headers' figures. */
export interface WindowDecision {
  allowed: boolean;
  limit: number;
  /** Calls left in this window, as of this replica's last lease (other replicas may have taken some since). */
  remaining: number;
  /** Seconds until the window resets (and, when refused, until a retry can succeed). */
  resetSeconds: number;
}

/**
 * Takes up to `want` calls of a window: counts them in the window's counter (created with the
 * window's length on its first use) and gives back what is over the limit, so the counter holds
 * exactly what was handed out. Returns [granted, counted in the window, ms until the window ends].
 */
const LEASE_SCRIPT = `
local want = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local used = redis.call('INCRBY', KEYS[1], want)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  ttl = tonumber(ARGV[3])
end
local granted = want
if used > limit then
  granted = math.max(0, want - (used - limit))
  redis.call('DECRBY', KEYS[1], want - granted)
  used = used - (want - granted)
end
return { granted, used, ttl }
`;

interface LeaseRedis extends Redis {
  leaseWindowTokens(
    key: string,
    want: number,
    limit: number,
    windowMs: number,
  ): Promise<[number, number, number]>;
}

/** One source's calls on this replica, in the current window. */
interface Allowance {
  limit: number;
  /** Calls leased from the shared counter and not yet taken here. */
  tokens: number;
  /** The shared counter after this replica's last lease. */
  counted: number;
  /** When the window ends (this replica's clock). */
  endsAt: number;
  /** How many calls the next lease asks for: doubles while the window's leases are used up. */
  chunk: number;
  /** The window is used up until then: calls are refused here without asking Redis. */
  refusedUntil: number;
  leasing?: Promise<void>;
}

/** The most calls one replica leases at once: what it may leave unused when the window ends. */
const MAX_CHUNK = 200;
/** A lease never holds more than this share of a window's limit. */
const MAX_CHUNK_SHARE = 20;
const MAX_SOURCES = 10_000;

/**
 * Fixed-window limits shared by every replica through one Redis counter per source and window,
 * without a Redis call per call: each replica leases calls from the counter in chunks and hands them
 * out locally. A chunk starts at one call (a quiet source asks Redis on every call, exactly as a
 * plain counter) and doubles with each lease the window's traffic uses up, up to MAX_CHUNK and a
 * twentieth of the limit. The window's counter never goes past the limit, so no more calls than
 * the limit are taken in a window across all replicas; at most one chunk per replica may go unused
 * when a window ends. A used-up window is refused locally until it ends.
 */
export class LeasedWindowLimiter {
  private readonly allowances = new Map<string, Allowance>();
  /** Leases sent to Redis since this limiter started (each is one Redis call). */
  leasesSent = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly windowMs = 1_000,
  ) {
    if (!('leaseWindowTokens' in redis)) {
      redis.defineCommand('leaseWindowTokens', { numberOfKeys: 1, lua: LEASE_SCRIPT });
    }
  }

  /** Takes one call of `key` against `limit` calls a window. Rejects when Redis cannot be asked. */
  async take(key: string, limit: number): Promise<WindowDecision> {
    const allowance = this.allowanceOf(key, limit);
    for (;;) {
      const now = Date.now();
      if (allowance.refusedUntil > now) return this.decision(allowance, false, now);
      if (allowance.tokens > 0 && allowance.endsAt > now) {
        allowance.tokens -= 1;
        return this.decision(allowance, true, now);
      }
      allowance.leasing ??= this.lease(key, allowance).finally(() => {
        allowance.leasing = undefined;
      });
      await allowance.leasing;
    }
  }

  private async lease(key: string, allowance: Allowance): Promise<void> {
    const sentAt = Date.now();
    let want: number;
    if (allowance.endsAt > sentAt) {
      // The window's leases are being used up: ask for more at once.
      want = Math.min(allowance.chunk * 2, this.chunkCap(allowance.limit));
    } else {
      // A new window: half the last chunk, or one call after a quiet window.
      const quiet = sentAt - allowance.endsAt > this.windowMs;
      want = quiet ? 1 : Math.max(1, Math.floor(allowance.chunk / 2));
      allowance.tokens = 0;
    }
    this.leasesSent += 1;
    const [granted, counted, ttl] = await (this.redis as LeaseRedis).leaseWindowTokens(
      `${this.keyPrefix}:${allowance.limit}:${key}`,
      want,
      allowance.limit,
      this.windowMs,
    );
    // Counted from when the lease was asked for, so this replica stops before Redis's window ends.
    const endsAt = sentAt + Math.max(1, ttl);
    // Calls left from an earlier window are void in this one.
    if (endsAt - allowance.endsAt > this.windowMs / 2) allowance.tokens = 0;
    allowance.tokens += granted;
    allowance.chunk = want;
    allowance.counted = counted;
    allowance.endsAt = endsAt;
    if (granted === 0) allowance.refusedUntil = endsAt;
  }

  private chunkCap(limit: number): number {
    return Math.max(1, Math.min(MAX_CHUNK, Math.floor(limit / MAX_CHUNK_SHARE)));
  }

  private allowanceOf(key: string, limit: number): Allowance {
    const id = `${limit}:${key}`;
    let allowance = this.allowances.get(id);
    if (!allowance) {
      if (this.allowances.size >= MAX_SOURCES) this.allowances.clear();
      allowance = { limit, tokens: 0, counted: 0, endsAt: 0, chunk: 1, refusedUntil: 0 };
      this.allowances.set(id, allowance);
    }
    return allowance;
  }

  private decision(allowance: Allowance, allowed: boolean, now: number): WindowDecision {
    return {
      allowed,
      limit: allowance.limit,
      remaining: allowed ? Math.max(0, allowance.limit - allowance.counted + allowance.tokens) : 0,
      resetSeconds: Math.max(1, Math.ceil((allowance.endsAt - now) / 1000)),
    };
  }
}
