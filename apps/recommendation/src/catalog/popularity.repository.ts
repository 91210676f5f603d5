import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';

const POPULAR = 'popular';
const SEEN_TTL_SECONDS = 7 * 24 * 3600;

// Counts an event once: the increments run only if this message id was not seen before.
const COUNT_ONCE = `
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  for i = 2, #ARGV, 2 do redis.call('ZINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
  return 1
end
return 0`;

/** Product popularity in Redis, rebuilt from the event stream if lost. */
@Injectable()
export class PopularityRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Adds `weight` to each product, once per message id; false when the message was counted before. */
  async countOnce(messageId: string, productIds: readonly string[], weight: number): Promise<boolean> {
    const args = productIds.flatMap((id) => [String(weight), id]);
    const counted = await this.redis.eval(
      COUNT_ONCE,
      2,
      `seen:${messageId}`,
      POPULAR,
      String(SEEN_TTL_SECONDS),
      ...args,
    );
    return counted === 1;
  }

  async top(limit: number): Promise<string[]> {
    return this.redis.zrevrange(POPULAR, 0, limit - 1);
  }
}
