import { Inject, Injectable } from '@nestjs/common';
import { type Envelope, type RenderedEmailPayload } from '@mesh/contracts';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';

const DAY_MS = 24 * 3_600_000;
const WEEK_MS = 7 * DAY_MS;

export type CapVerdict = 'reserved' | 'daily_cap' | 'campaign_weekly_cap';

export interface CapRequest {
  profileId: string;
  campaignId: string;
  /** The send key: counted once however often it is asked for. */
  sendKey: string;
  /** Per rolling 24 h across campaigns; 0: none. */
  perDay: number;
  /** Per rolling 7 days for this campaign; 0: none. */
  perCampaignWeek: number;
  now: Date;
}

// Sliding windows as sorted sets of send keys scored by time: trim, check both caps, then count the
// send in both — atomically, and idempotently (a send already counted passes again).
const RESERVE = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[5]))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[6]))
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 0 end
local perDay = tonumber(ARGV[3])
local perWeek = tonumber(ARGV[4])
if perDay > 0 and redis.call('ZCARD', KEYS[1]) >= perDay then return 1 end
if perWeek > 0 and redis.call('ZCARD', KEYS[2]) >= perWeek then return 2 end
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return 0
`;

/** Frequency caps per profile in Redis (what expires by itself; lost caps only loosen, never block). */
@Injectable()
export class FrequencyCapsRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async reserve(request: CapRequest): Promise<CapVerdict> {
    const verdict = (await this.redis.eval(
      RESERVE,
      2,
      this.dayKey(request.profileId),
      this.weekKey(request.profileId, request.campaignId),
      request.now.getTime(),
      request.sendKey,
      request.perDay,
      request.perCampaignWeek,
      DAY_MS,
      WEEK_MS,
    )) as number;
    return verdict === 0 ? 'reserved' : verdict === 1 ? 'daily_cap' : 'campaign_weekly_cap';
  }

  /**
   * Gives the slots back (the email bounced: it never reached the inbox, so it does not count
   * against the caps). Idempotent; a slot already out of its window is simply not there.
   */
  async release(profileId: string, campaignId: string, sendKey: string): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.dayKey(profileId), sendKey)
      .zrem(this.weekKey(profileId, campaignId), sendKey)
      .exec();
  }

  /** `release` for the send of a rendered email (transactional email holds no slot; nothing happens). */
  async releaseFor(envelope: Envelope<RenderedEmailPayload>, sendKey: string): Promise<void> {
    if (!envelope.profileId || envelope.data.campaign.sendPolicy.transactional) return;
    await this.release(envelope.profileId, envelope.data.campaign.campaignId, sendKey);
  }

  async erase(profileId: string): Promise<number> {
    const keys = await this.redis.keys(`${this.redis.options.keyPrefix ?? ''}cap:*:{${profileId}}*`);
    const prefix = this.redis.options.keyPrefix ?? '';
    if (keys.length === 0) return 0;
    return this.redis.del(...keys.map((key) => key.slice(prefix.length)));
  }

  private dayKey(profileId: string): string {
    return `cap:day:{${profileId}}`;
  }

  private weekKey(profileId: string, campaignId: string): string {
    return `cap:week:{${profileId}}:${campaignId}`;
  }
}
