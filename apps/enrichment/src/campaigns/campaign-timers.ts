import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { deterministicId, type TriggerDto } from '@mesh/contracts';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';

/** The input envelope a timer's send intent is derived from, without its data. */
export interface TimerOrigin {
  id: string;
  occurredAt: string;
  receivedAt: string;
  source: string;
  correlationId: string;
}

/** A campaign waiting for one profile and trigger key. */
export interface CampaignTimer {
  timerId: string;
  campaignId: string;
  profileId: string;
  triggerKey: string;
  trigger: TriggerDto;
  variant?: string;
  /** When the trigger event happened: only later events cancel. */
  triggeredAt: string;
  dueAt: number;
  origin: TimerOrigin;
  /** W3C trace context of the trigger, so the send continues its trace. */
  trace: Record<string, string>;
}

const DUE = 'timers:due';
const CLAIMED = 'timers:claimed';
const timerKey = (timerId: string) => `timer:${timerId}`;
const profileKey = (profileId: string) => `profile-timers:${profileId}`;
const mergedIntoKey = (profileId: string) => `merged-into:${profileId}`;
const heldKey = (profileId: string) => `timers-held:${profileId}`;
/** A hold left by a replica that died lapses after this. */
const HOLD_MS = 30_000;
/** Lets go of a hold only if it is still the caller's (it may have lapsed and been taken since). */
const LET_GO = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

// Moves due timers (and claims whose lease ran out: their worker died) to the claimed set with a new
// lease, atomically, so each timer is handed to exactly one worker at a time.
const CLAIM = `
local claimed = {}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZADD', KEYS[2], ARGV[2], id)
  table.insert(claimed, id)
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(expired) do
  redis.call('ZADD', KEYS[2], ARGV[2], id)
  table.insert(claimed, id)
end
return claimed
`;

export function timerIdOf(campaignId: string, profileId: string, triggerKey: string): string {
  return deterministicId('timer', campaignId, profileId, triggerKey);
}

/**
 * Campaign waits in Redis (they survive restarts): a sorted set of due times polled by the due-timer
 * worker, one key per timer with what it needs to fire, and each profile's pending timers to cancel.
 */
@Injectable()
export class CampaignTimers {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Idempotent: scheduling the same timer again keeps its first due time. */
  async schedule(timer: CampaignTimer): Promise<void> {
    await this.redis
      .multi()
      .set(timerKey(timer.timerId), JSON.stringify(timer), 'NX')
      .zadd(DUE, 'NX', timer.dueAt, timer.timerId)
      .sadd(profileKey(timer.profileId), timer.timerId)
      .exec();
  }

  async get(timerId: string): Promise<CampaignTimer | undefined> {
    const text = await this.redis.get(timerKey(timerId));
    return text === null ? undefined : (JSON.parse(text) as CampaignTimer);
  }

  async pendingFor(profileId: string): Promise<CampaignTimer[]> {
    const ids = await this.redis.smembers(profileKey(profileId));
    if (ids.length === 0) return [];
    const texts = await this.redis.mget(...ids.map(timerKey));
    return texts.filter((text) => text !== null).map((text) => JSON.parse(text) as CampaignTimer);
  }

  /** Removes a timer whether it waits, is claimed, or is gone already. */
  async remove(timer: Pick<CampaignTimer, 'timerId' | 'profileId'>): Promise<void> {
    await this.redis
      .multi()
      .zrem(DUE, timer.timerId)
      .zrem(CLAIMED, timer.timerId)
      .del(timerKey(timer.timerId))
      .srem(profileKey(timer.profileId), timer.timerId)
      .exec();
  }

  /** Due timer ids now owned by the caller until `leaseUntil`. */
  async claimDue(now: number, leaseUntil: number, limit: number): Promise<string[]> {
    const claimed = (await this.redis.eval(CLAIM, 2, DUE, CLAIMED, now, leaseUntil, limit)) as string[];
    return [...new Set(claimed)];
  }

  /** Drops a claim whose timer no longer exists. */
  async release(timerId: string): Promise<void> {
    await this.redis.zrem(CLAIMED, timerId);
  }

  /** Puts a claimed timer back among the due ones, due at `at` (its profile was held elsewhere). */
  async requeue(timerId: string, at: number): Promise<void> {
    await this.redis.multi().zrem(CLAIMED, timerId).zadd(DUE, at, timerId).exec();
  }

  /**
   * Holds a profile's waits, across replicas, while one of them fires or a merge moves them away, so
   * neither sees them half-way through the other (a wait that read "not merged" just before the merge
   * began would otherwise still send for the merged-away profile). Returns the hold's token, or
   * undefined when the profile is held already. A hold lapses after HOLD_MS (its replica died).
   */
  async tryHold(profileId: string): Promise<string | undefined> {
    const token = randomUUID();
    const taken = await this.redis.set(heldKey(profileId), token, 'PX', HOLD_MS, 'NX');
    return taken === 'OK' ? token : undefined;
  }

  async letGo(profileId: string, token: string): Promise<void> {
    await this.redis.eval(LET_GO, 1, heldKey(profileId), token);
  }

  /** Marks profiles as merged away into a survivor, so their late timers are re-keyed, not sent. */
  async markMerged(profileIds: readonly string[], survivorId: string): Promise<void> {
    if (profileIds.length === 0) return;
    const multi = this.redis.multi();
    for (const profileId of profileIds) multi.set(mergedIntoKey(profileId), survivorId);
    await multi.exec();
  }

  /** The survivor a profile was merged into, while it stays merged. */
  async mergedInto(profileId: string): Promise<string | undefined> {
    return (await this.redis.get(mergedIntoKey(profileId))) ?? undefined;
  }

  /** Split: these profiles live again (their moved timers stay with the survivor). */
  async unmarkMerged(profileIds: readonly string[]): Promise<void> {
    if (profileIds.length > 0) await this.redis.del(...profileIds.map(mergedIntoKey));
  }

  async removeProfiles(profileIds: readonly string[]): Promise<number> {
    let removed = 0;
    await this.unmarkMerged(profileIds);
    for (const profileId of profileIds) {
      const ids = await this.redis.smembers(profileKey(profileId));
      for (const timerId of ids) await this.remove({ timerId, profileId });
      await this.redis.del(profileKey(profileId));
      removed += ids.length;
    }
    return removed;
  }
}
