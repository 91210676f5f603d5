import { type Redis } from 'ioredis';

/** How much each e-commerce event says about a product: view < add to cart < purchase. */
export const EVENT_WEIGHTS: Readonly<Record<string, number>> = {
  'Product Viewed': 1,
  'Product Added': 3,
  'Order Completed': 5,
};

/** Forward decay: an event's weight doubles every half-life after this instant, so older ones fade. */
const DECAY_EPOCH_MS = Date.UTC(2026, 0, 1);
const POPULARITY_HALF_LIFE_MS = 30 * 24 * 3600_000;
/** Two interactions of one person count as co-occurring if at most this far apart… */
const PAIR_WINDOW_MS = 30 * 24 * 3600_000;
/** …and count half as much every day apart. */
const PAIR_HALF_LIFE_MS = 24 * 3600_000;
const HISTORY_LENGTH = 50;
const TREND_BUCKET_MS = 3600_000;
/** Trending looks at the last this many hourly buckets. */
export const TREND_WINDOW_BUCKETS = 24;
const TREND_HALF_LIFE_HOURS = 2;
/** How long a recorded message id is kept by default (see RECOMMENDATION_DEDUP_SECONDS). */
const SEEN_TTL_SECONDS = 3_600;
/**
 * Each product keeps at most this many co-occurring products (strongest first; a recommendation reads
 * the first 100), so the sets are bounded by the catalog (products × 250 entries) instead of growing
 * with every pair ever seen: unbounded, 200k events over a 50k-product catalog made 2.2M entries and
 * the most popular product alone paired with 25k others. With forward decay a recent pair outweighs an
 * old one seen as often, so what is trimmed is the weak and the stale.
 */
export const CO_OCCURRENCE_KEEP = 200;
/** Trimming waits for this many extra entries, so it happens once per batch of new pairs, not per pair. */
const CO_OCCURRENCE_SLACK = 50;

export interface Interaction {
  messageId: string;
  profileId?: string;
  /** When it happened (event time, so a replay of the stream computes the same signals). */
  at: number;
  weight: number;
  purchase: boolean;
  products: readonly { id: string; category?: string }[];
}

// Everything one interaction changes, applied at most once per message id (redelivery counts once).
// Keys are built here from the service's prefix (ARGV[1]) since which ones depends on the history.
const RECORD = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return 0 end
local p, profile = ARGV[1], ARGV[3]
local t, w, purchase = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6] == '1'
local boost, bucket, trendTtl = tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9])
local window, pairHalfLife, historyLength = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local coKeep, coSlack = tonumber(ARGV[13]), tonumber(ARGV[14])
local products = {}
local touched = {}
local function pair(a, b, weight)
  local key = p .. 'co:' .. a
  redis.call('ZINCRBY', key, weight, b)
  touched[key] = true
end
for i = 15, #ARGV, 2 do
  local id, cat = ARGV[i], ARGV[i + 1]
  products[#products + 1] = id
  redis.call('ZINCRBY', p .. 'pop', w * boost, id)
  local trend = p .. 'trend:' .. bucket
  redis.call('ZINCRBY', trend, w, id)
  redis.call('EXPIRE', trend, trendTtl)
  if cat ~= '' then
    redis.call('ZINCRBY', p .. 'pop:c:' .. cat, w * boost, id)
    local ctrend = p .. 'trend:c:' .. cat .. ':' .. bucket
    redis.call('ZINCRBY', ctrend, w, id)
    redis.call('EXPIRE', ctrend, trendTtl)
  end
end
for i = 1, #products do
  for j = 1, #products do
    if products[i] ~= products[j] then pair(products[i], products[j], w * boost) end
  end
end
local function trim()
  for key in pairs(touched) do
    local size = redis.call('ZCARD', key)
    if size > coKeep + coSlack then redis.call('ZREMRANGEBYRANK', key, 0, size - coKeep - 1) end
  end
end
if profile == '' then
  trim()
  return 1
end
local hist, histw = p .. 'hist:' .. profile, p .. 'histw:' .. profile
local recent = redis.call('ZRANGEBYSCORE', hist, t - window, t + window, 'WITHSCORES')
for k = 1, #recent, 2 do
  local other, when = recent[k], tonumber(recent[k + 1])
  local pairWeight = math.min(w, tonumber(redis.call('HGET', histw, other) or '1'))
    * boost * math.pow(0.5, math.abs(t - when) / pairHalfLife)
  for i = 1, #products do
    if products[i] ~= other then
      pair(products[i], other, pairWeight)
      pair(other, products[i], pairWeight)
    end
  end
end
for i = 1, #products do
  redis.call('ZADD', hist, 'GT', t, products[i])
  local known = tonumber(redis.call('HGET', histw, products[i]) or '0')
  if w > known then redis.call('HSET', histw, products[i], w) end
  if purchase then redis.call('SADD', p .. 'bought:' .. profile, products[i]) end
end
local dropped = redis.call('ZRANGE', hist, 0, -(historyLength + 1))
if #dropped > 0 then
  redis.call('ZREM', hist, unpack(dropped))
  redis.call('HDEL', histw, unpack(dropped))
end
trim()
return 1`;

export interface Scored {
  id: string;
  score: number;
}

function pairs(flat: string[]): Scored[] {
  const scored: Scored[] = [];
  for (let i = 0; i < flat.length; i += 2) scored.push({ id: flat[i]!, score: Number(flat[i + 1]) });
  return scored;
}

/**
 * The streaming signals in Redis: popularity (overall, per category, trending hourly buckets),
 * item-to-item co-occurrence and each profile's recent history. All of it is derived from the event
 * stream and rebuilt from it (see the rebuild tool) if Redis is lost.
 */
export class SignalStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    /** How long a recorded message id is kept, so its redeliveries count once. */
    private readonly dedupSeconds = SEEN_TTL_SECONDS,
  ) {
    this.prefix = redis.options.keyPrefix ?? '';
  }

  /** Records an interaction once per message id; false when it was recorded before. */
  async record(interaction: Interaction): Promise<boolean> {
    if (interaction.products.length === 0) return false;
    const recorded = await this.redis.eval(
      RECORD,
      1,
      `seen:${interaction.messageId}`,
      this.prefix,
      String(this.dedupSeconds),
      interaction.profileId ?? '',
      String(interaction.at),
      String(interaction.weight),
      interaction.purchase ? '1' : '0',
      String(2 ** ((interaction.at - DECAY_EPOCH_MS) / POPULARITY_HALF_LIFE_MS)),
      String(Math.floor(interaction.at / TREND_BUCKET_MS)),
      String(Math.ceil(((TREND_WINDOW_BUCKETS + 1) * TREND_BUCKET_MS) / 1000)),
      String(PAIR_WINDOW_MS),
      String(PAIR_HALF_LIFE_MS),
      String(HISTORY_LENGTH),
      String(CO_OCCURRENCE_KEEP),
      String(CO_OCCURRENCE_SLACK),
      ...interaction.products.flatMap((product) => [product.id, product.category ?? '']),
    );
    return recorded === 1;
  }

  async popular(limit: number, category?: string): Promise<Scored[]> {
    const key = category === undefined ? 'pop' : `pop:c:${category}`;
    return pairs(await this.redis.zrevrange(key, 0, limit - 1, 'WITHSCORES'));
  }

  /** Interactions of the last TREND_WINDOW_BUCKETS hours before `now`, the latest counting most. */
  async trending(limit: number, now: number, category?: string): Promise<Scored[]> {
    const current = Math.floor(now / TREND_BUCKET_MS);
    const keys = Array.from({ length: TREND_WINDOW_BUCKETS }, (_, back) =>
      category === undefined ? `trend:${current - back}` : `trend:c:${category}:${current - back}`,
    );
    // The hour just begun counts fully, earlier hours half as much every TREND_HALF_LIFE_HOURS.
    const weights = keys.map((_, back) => String(0.5 ** (back / TREND_HALF_LIFE_HOURS)));
    const flat = await this.redis.zunion(keys.length, ...keys, 'WEIGHTS', ...weights, 'WITHSCORES');
    return pairs(flat)
      .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
      .slice(0, limit);
  }

  /** Products most often seen with `productId`, strongest first. */
  async together(productId: string, limit: number): Promise<Scored[]> {
    return pairs(await this.redis.zrevrange(`co:${productId}`, 0, limit - 1, 'WITHSCORES'));
  }

  /** The profile's recent products, newest first, with when (ms) and how strongly (event weight). */
  async history(profileId: string): Promise<{ id: string; at: number; weight: number }[]> {
    const [recent, weights] = await Promise.all([
      this.redis.zrevrange(`hist:${profileId}`, 0, -1, 'WITHSCORES'),
      this.redis.hgetall(`histw:${profileId}`),
    ]);
    return pairs(recent).map(({ id, score }) => ({ id, at: score, weight: Number(weights[id] ?? 1) }));
  }

  /** Remembers which profile a source's user id resolved to, so the API may be asked by customer id. */
  async link(userId: string, profileId: string): Promise<void> {
    await this.redis.set(`user:${userId}`, profileId);
  }

  /** The profile of a customer id (a source user id), or the id itself when it is a profile id. */
  async profileOf(customerId: string): Promise<string> {
    return (await this.redis.get(`user:${customerId}`)) ?? customerId;
  }

  /** The profiles these source user ids resolved to (those known). */
  async profilesOf(userIds: readonly string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const found = await this.redis.mget(...userIds.map((id) => `user:${id}`));
    return found.filter((id): id is string => id !== null);
  }

  async unlink(userIds: readonly string[]): Promise<number> {
    return userIds.length === 0 ? 0 : this.redis.del(...userIds.map((id) => `user:${id}`));
  }

  async purchased(profileId: string): Promise<Set<string>> {
    return new Set(await this.redis.smembers(`bought:${profileId}`));
  }

  /** Forgets a person: history, purchases, newest features go; aggregates stay. Returns keys removed. */
  async forget(profileId: string): Promise<number> {
    return this.redis.del(
      `hist:${profileId}`,
      `histw:${profileId}`,
      `bought:${profileId}`,
      `feat:${profileId}`,
    );
  }

  /** Drops every signal (before a rebuild from the stream). Returns how many keys went. */
  async clear(): Promise<number> {
    let removed = 0;
    for (const pattern of [
      'seen:*',
      'pop',
      'pop:*',
      'trend:*',
      'co:*',
      'hist:*',
      'histw:*',
      'bought:*',
      'feat:*',
      'user:*',
    ]) {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.prefix + pattern, 'COUNT', 1000);
        cursor = next;
        // SCAN answers full names; DEL through the client would prefix them again.
        const unprefixed = keys.map((key) => key.slice(this.prefix.length));
        if (unprefixed.length > 0) removed += await this.redis.del(...unprefixed);
      } while (cursor !== '0');
    }
    return removed;
  }
}
