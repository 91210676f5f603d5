import { Inject, Injectable } from '@nestjs/common';
import { type ProfileSnapshotDto } from '@mesh/contracts';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';

const TTL_SECONDS = 3_600;
const key = (profileId: string) => `profile:${profileId}`;

const PUT_NEWER = `
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).version > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
`;

/** Profile snapshots in Redis for reads (API, timers); written on every change, dropped on erasure. */
@Injectable()
export class ProfileCache {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async get(profileId: string): Promise<ProfileSnapshotDto | undefined> {
    const cached = await this.redis.get(key(profileId));
    return cached === null ? undefined : (JSON.parse(cached) as ProfileSnapshotDto);
  }

  /**
   * Keeps the newest version only: an older writer (a slow replica) never replaces a newer one. One
   * round trip (a script compares the versions in Redis).
   */
  async put(snapshot: ProfileSnapshotDto): Promise<void> {
    await this.redis.eval(
      PUT_NEWER,
      1,
      key(snapshot.profileId),
      JSON.stringify(snapshot),
      snapshot.version,
      TTL_SECONDS,
    );
  }

  async drop(profileIds: readonly string[]): Promise<number> {
    if (profileIds.length === 0) return 0;
    return this.redis.del(...profileIds.map(key));
  }
}
