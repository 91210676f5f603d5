import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';

/** How long a claim lives unless released: what a crashed holder costs the next claimant. */
export const CLAIM_TTL_MS = Symbol('CLAIM_TTL_MS');
export const DEFAULT_CLAIM_TTL_MS = 15_000;

/** Deletes the claim only if the token is still its holder's (an expired claim may be someone else's now). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

const MAX_WAITS = 2_000;

/**
 * Short exclusive claims on profile ids (and other graph entities, e.g. `candidate:<id>`), in Redis:
 * `SET claim:<id> <token> NX PX ttl`, released by a compare-and-delete, so replicas exclude each other
 * and a claim left by a crashed process expires. Several ids are claimed one by one in sorted order, so
 * two claimants never wait on each other in a cycle. One key per command: no cross-slot script.
 */
@Injectable()
export class ProfileClaims {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CLAIM_TTL_MS) private readonly ttlMs: number,
  ) {}

  /** Runs `work` holding the claims on every id; waits while another holder has one. */
  async withClaims<T>(ids: readonly string[], work: () => Promise<T>): Promise<T> {
    const token = randomUUID();
    const sorted = [...new Set(ids)].sort();
    const held: string[] = [];
    try {
      for (const id of sorted) {
        await this.acquire(id, token);
        held.push(id);
      }
      return await work();
    } finally {
      await Promise.all(held.map((id) => this.redis.eval(RELEASE, 1, claimKey(id), token)));
    }
  }

  private async acquire(id: string, token: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if ((await this.redis.set(claimKey(id), token, 'PX', this.ttlMs, 'NX')) === 'OK') return;
      if (attempt > MAX_WAITS) throw new Error(`${id} stayed claimed`);
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * Math.min(100, 5 * attempt)));
    }
  }
}

/** `claim:<id>` (the service prefix `identity:` is added by the client). */
export function claimKey(id: string): string {
  return `claim:${id}`;
}
