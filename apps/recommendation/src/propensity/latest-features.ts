import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { type Features } from './features.js';

// Keeps the snapshot only if it is not older than the one held (redeliveries and late copies lose).
const SAVE_IF_NEWER = `
local held = redis.call('HGET', KEYS[1], 'at')
if held and tonumber(held) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'at', ARGV[1], 'features', ARGV[2])
return 1`;

export interface LatestFeatureRow {
  at: Date;
  features: Features;
}

/**
 * Each profile's newest feature snapshot in Redis (`feat:<profileId>`), for scoring at send time.
 * The rows in MongoDB are the training data; FerretDB scans the whole collection for any filtered
 * read, so the attach path never reads them. The rebuild restores these keys from MongoDB.
 */
@Injectable()
export class LatestFeatures {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async save(profileId: string, row: LatestFeatureRow): Promise<void> {
    await this.redis.eval(
      SAVE_IF_NEWER,
      1,
      `feat:${profileId}`,
      String(row.at.getTime()),
      JSON.stringify(row.features),
    );
  }

  async get(profileId: string): Promise<LatestFeatureRow | undefined> {
    const [at, features] = await this.redis.hmget(`feat:${profileId}`, 'at', 'features');
    if (!at || !features) return undefined;
    return { at: new Date(Number(at)), features: JSON.parse(features) as Features };
  }

  /** Saves many snapshots (the rebuild), a pipeline per call. */
  async saveMany(rows: readonly (LatestFeatureRow & { profileId: string })[]): Promise<void> {
    if (rows.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const row of rows)
      pipeline.eval(
        SAVE_IF_NEWER,
        1,
        `feat:${row.profileId}`,
        String(row.at.getTime()),
        JSON.stringify(row.features),
      );
    await pipeline.exec();
  }
}
