import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { type Features } from './features.js';

// Keeps the snapshot only if it is not older than the one held (redeliveries and late copies lose):
// by profile version when both have one (snapshots of one profile may be handled out of order, and a
// later version may come from an event that happened earlier), else by time.
const SAVE_IF_NEWER = `
local held = redis.call('HMGET', KEYS[1], 'at', 'version')
if ARGV[3] ~= '' and held[2] then
  if tonumber(held[2]) > tonumber(ARGV[3]) then return 0 end
elseif held[1] and tonumber(held[1]) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'at', ARGV[1], 'features', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'version', ARGV[3]) else redis.call('HDEL', KEYS[1], 'version') end
return 1`;

export interface LatestFeatureRow {
  at: Date;
  features: Features;
  /** The profile version the snapshot is of (enrichment's, one more per change). */
  version?: number;
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
      row.version === undefined ? '' : String(row.version),
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
        row.version === undefined ? '' : String(row.version),
      );
    await pipeline.exec();
  }
}
