import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';

export const IDENTIFIER_CACHE_TTL = Symbol('IDENTIFIER_CACHE_TTL');

/**
 * Identifier → live profile, in Redis, in front of the `identifiers` collection. The discipline that
 * keeps it safe without transactions:
 * - an entry is written only by a holder of the claim on the profile it names, after reading MongoDB
 *   under that claim (so it was true when written, and stays true until someone else holds the claim);
 * - whoever moves identifiers away from a profile (merge, split, erasure) holds its claim and deletes
 *   the entries before changing MongoDB (a reader cannot write them back while the claim is held); a
 *   merge or an erasure first marks the profile document (`mergedInto`, `erasing`), because a reader
 *   may have read an entry just before it was deleted;
 * - a reader takes an entry as a hint only: resolution's cached path verifies it, without a claim,
 *   against the profile document its one write returns (matched only when not `erasing`, then live and
 *   listing the keys), and falls back to MongoDB, under claims, on a miss or a stale hit.
 * Entries expire after a TTL (a miss is always safe). Keys are hashed: no e-mail or phone in Redis.
 */
@Injectable()
export class IdentifierCache {
  private readonly logger = new Logger(IdentifierCache.name);

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(IDENTIFIER_CACHE_TTL) private readonly ttlSeconds: number,
  ) {}

  /** The cached owners of these identifier keys (absent: not cached); empty when Redis fails. */
  async get(keys: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (keys.length === 0) return found;
    try {
      const values = await this.redis.mget(keys.map(entryKey));
      keys.forEach((key, index) => {
        const value = values[index];
        if (value) found.set(key, value);
      });
    } catch (error) {
      this.logger.warn(`identifier cache read failed, reading MongoDB: ${(error as Error).message}`);
    }
    return found;
  }

  /** Caches `key → profileId`; callers hold the claim on the profile. A failed write is only a later miss. */
  async set(keys: readonly string[], profileId: string): Promise<void> {
    if (keys.length === 0) return;
    try {
      const pipeline = this.redis.pipeline();
      for (const key of keys) pipeline.set(entryKey(key), profileId, 'EX', this.ttlSeconds);
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (failed) throw failed[0]!;
    } catch (error) {
      this.logger.warn(`identifier cache write failed: ${(error as Error).message}`);
    }
  }

  /**
   * Deletes the entries of identifiers that change owner. Throws when Redis fails: the change must
   * not go ahead while an entry could still send events to the old owner (the caller retries).
   */
  async forget(keys: Iterable<string>): Promise<void> {
    const entries = [...new Set(keys)].map(entryKey);
    for (let start = 0; start < entries.length; start += 500) {
      await this.redis.del(...entries.slice(start, start + 500));
    }
  }
}

/** `idc:<sha-256 of type:value>` (the service prefix `identity:` is added by the client). */
export function entryKey(identifierKey: string): string {
  return `idc:${createHash('sha256').update(identifierKey).digest('base64url')}`;
}
