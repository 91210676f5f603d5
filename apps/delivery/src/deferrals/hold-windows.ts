import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';

/** Members of a window not taken (a missed wake) are forgotten after this; the poll finds their sends. */
const MEMBERS_TTL_MS = 3_600_000;

// The profile's open window (a new one from now when none is open), and the send joins it.
const JOIN = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local open = tonumber(redis.call('GET', KEYS[1]) or '0')
if open <= now then
  open = now + window
  redis.call('SET', KEYS[1], string.format('%d', open), 'PX', window)
end
redis.call('HSET', KEYS[2], ARGV[3], string.format('%d', open))
redis.call('PEXPIRE', KEYS[2], window + tonumber(ARGV[4]))
return string.format('%d', open)
`;

// Takes (removes and returns) the sends of every window of the profile ended by ARGV[1]: whoever
// takes them releases them, so two replicas woken for one window never split it.
const TAKE = `
local fields = redis.call('HGETALL', KEYS[1])
local taken = {}
for i = 1, #fields, 2 do
  if tonumber(fields[i + 1]) <= tonumber(ARGV[1]) then table.insert(taken, fields[i]) end
end
if #taken > 0 then redis.call('HDEL', KEYS[1], unpack(taken)) end
return taken
`;

/**
 * The priority windows in Redis: which window a held send belongs to, and which sends a window
 * holds, found by profile without scanning the deferral store (FerretDB answers `_id` lookups
 * fast, not filters on other fields). The sends themselves are kept durably in MongoDB; losing this
 * only delays a release to the poll.
 */
@Injectable()
export class HoldWindows {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Adds the send to the profile's open window (or opens one); returns when the window ends. */
  async join(profileId: string, sendKey: string, now: Date, windowMs: number): Promise<Date> {
    const until = (await this.redis.eval(
      JOIN,
      2,
      `hold:{${profileId}}:until`,
      `hold:{${profileId}}`,
      now.getTime(),
      windowMs,
      sendKey,
      MEMBERS_TTL_MS,
    )) as string;
    return new Date(Number(until));
  }

  /** The send keys of the profile's windows ended by `until`, taken so that no one else releases them. */
  async take(profileId: string, until: Date): Promise<string[]> {
    return (await this.redis.eval(TAKE, 1, `hold:{${profileId}}`, until.getTime())) as string[];
  }
}
