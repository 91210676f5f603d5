import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';

const DUE = 'segment-reviews:due';
const CLAIMED = 'segment-reviews:claimed';
/** Profile → the due time of the review it was claimed for (the id of the change it makes). */
const CLAIMED_DUE = 'segment-reviews:claimed-due';

// Moves due reviews (and claims whose lease ran out: their worker died) to the claimed set with a new
// lease, atomically, so each review is handed to one worker at a time. Returns [profile, due, …].
const CLAIM = `
local out = {}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[3])
for i = 1, #due, 2 do
  redis.call('ZREM', KEYS[1], due[i])
  redis.call('ZADD', KEYS[2], ARGV[2], due[i])
  redis.call('HSET', KEYS[3], due[i], due[i + 1])
  table.insert(out, due[i])
  table.insert(out, due[i + 1])
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(expired) do
  redis.call('ZADD', KEYS[2], ARGV[2], id)
  table.insert(out, id)
  table.insert(out, redis.call('HGET', KEYS[3], id) or ARGV[1])
end
return out
`;

// Ends a claim, unless the profile was claimed again since for a later review.
const RELEASE = `
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
`;

export interface DueReview {
  profileId: string;
  dueAt: number;
}

/**
 * When each profile's segment membership next changes with time alone ("no order in 30 days"), in a
 * Redis sorted set (it survives restarts), one entry per profile. An entry only moves earlier: a
 * review that finds nothing to change is harmless, a missed one is not.
 */
@Injectable()
export class SegmentReviews {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async schedule(profileId: string, at: number): Promise<void> {
    await this.redis.zadd(DUE, 'LT', at, profileId);
  }

  async dueAt(profileId: string): Promise<number | undefined> {
    const score = await this.redis.zscore(DUE, profileId);
    return score === null ? undefined : Number(score);
  }

  /** Due reviews now owned by the caller until `leaseUntil`. */
  async claimDue(now: number, leaseUntil: number, limit: number): Promise<DueReview[]> {
    const flat = (await this.redis.eval(
      CLAIM,
      3,
      DUE,
      CLAIMED,
      CLAIMED_DUE,
      now,
      leaseUntil,
      limit,
    )) as string[];
    const reviews = new Map<string, number>();
    for (let index = 0; index < flat.length; index += 2) reviews.set(flat[index]!, Number(flat[index + 1]));
    return [...reviews].map(([profileId, dueAt]) => ({ profileId, dueAt }));
  }

  async release(review: DueReview): Promise<void> {
    await this.redis.eval(RELEASE, 2, CLAIMED, CLAIMED_DUE, review.profileId, String(review.dueAt));
  }

  async removeProfiles(profileIds: readonly string[]): Promise<number> {
    if (profileIds.length === 0) return 0;
    const [[, removed]] = (await this.redis
      .multi()
      .zrem(DUE, ...profileIds)
      .zrem(CLAIMED, ...profileIds)
      .hdel(CLAIMED_DUE, ...profileIds)
      .exec()) as [[unknown, number], ...unknown[]];
    return removed;
  }
}
