import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { TOLERANCE_SECONDS } from './webhook-signature.js';

const keyOf = (sourceId: string, signature: string) =>
  `webhook-seen:${sourceId}:${createHash('sha256').update(signature).digest('hex')}`;

/**
 * Signatures already taken, for as long as their timestamp could pass the tolerance check
 * (both sides of now), so a captured request cannot be replayed inside the window.
 */
@Injectable()
export class WebhookReplaysRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** True when this signature is seen for the first time (and is now recorded). */
  async claim(sourceId: string, signature: string): Promise<boolean> {
    const set = await this.redis.set(keyOf(sourceId, signature), '1', 'EX', 2 * TOLERANCE_SECONDS, 'NX');
    return set === 'OK';
  }

  /** Forgets a signature whose webhook was not accepted after all, so the sender's retry is taken. */
  async release(sourceId: string, signature: string): Promise<void> {
    await this.redis.del(keyOf(sourceId, signature));
  }
}
