import { Inject, Injectable } from '@nestjs/common';
import { type ProfileSnapshotDto } from '@mesh/contracts';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';

const TTL_SECONDS = 3_600;
const key = (profileId: string) => `profile:${profileId}`;

/** Profile snapshots in Redis for reads (API, timers); written on every change, dropped on erasure. */
@Injectable()
export class ProfileCache {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async get(profileId: string): Promise<ProfileSnapshotDto | undefined> {
    const cached = await this.redis.get(key(profileId));
    return cached === null ? undefined : (JSON.parse(cached) as ProfileSnapshotDto);
  }

  /** Keeps the newest version only: an older writer (a slow replica) never replaces a newer one. */
  async put(snapshot: ProfileSnapshotDto): Promise<void> {
    const current = await this.get(snapshot.profileId);
    if (current && current.version > snapshot.version) return;
    await this.redis.set(key(snapshot.profileId), JSON.stringify(snapshot), 'EX', TTL_SECONDS);
  }

  async drop(profileIds: readonly string[]): Promise<number> {
    if (profileIds.length === 0) return 0;
    return this.redis.del(...profileIds.map(key));
  }
}
