import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB, REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { type Collection, type Db } from 'mongodb';
import { createHmac, randomUUID } from 'node:crypto';
import { IngestEnv } from '../config.js';

export type ErasableIdentifierType = 'user_id' | 'email';

export interface ErasableIdentifier {
  type: ErasableIdentifierType;
  value: string;
}

interface ErasedIdentityDocument {
  /** HMAC-SHA256 (keyed with INGEST_SECRET_KEY) of the type and normalized value: never the value itself. */
  _id: string;
  erased: boolean;
  erasedAt: Date;
  requestId: string;
  /** Set when a consent opt-in lifted the block. */
  reconsentedAt?: Date;
  changedAt: Date;
  schemaVersion: 1;
}

/**
 * The change feed in Redis: `seq` counts changes, `changes` holds each changed hash scored by the
 * change that last touched it (the oldest trimmed past MAX_CHANGES; `floor` says up to which), and
 * `epoch` names this Redis's copy of the feed (a new one after Redis lost it: read everything again).
 * `pending` holds changes begun and not announced: one left there (its writer died between MongoDB
 * and Redis) is announced by the next poll after PENDING_MS.
 */
const FEED = {
  epoch: '{erased}:epoch',
  seq: '{erased}:seq',
  floor: '{erased}:floor',
  changes: '{erased}:changes',
  pending: '{erased}:pending',
};
const FEED_KEYS = [FEED.epoch, FEED.seq, FEED.floor, FEED.changes, FEED.pending] as const;
const MAX_CHANGES = 10_000;
const PENDING_MS = 5_000;
/** More changes than this since the last poll: reading everything once is cheaper. */
const MAX_READ_BY_ID = 200;

// Announces changed hashes (ARGV[2..]): each gets the next sequence number; no longer pending.
const ANNOUNCE_SCRIPT = `
local function announce(hash)
  local seq = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[4], seq, hash)
  redis.call('ZREM', KEYS[5], hash)
end
`;
const ANNOUNCE = `${ANNOUNCE_SCRIPT}
redis.call('SET', KEYS[1], ARGV[1], 'NX')
for i = 2, #ARGV do announce(ARGV[i]) end
local excess = redis.call('ZCARD', KEYS[4]) - ${MAX_CHANGES}
if excess > 0 then
  local trimmed = redis.call('ZRANGE', KEYS[4], excess - 1, excess - 1, 'WITHSCORES')
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, excess - 1)
  redis.call('SET', KEYS[3], trimmed[2])
end
return redis.call('GET', KEYS[2])
`;

// The feed's state (epoch, seq, floor), after announcing changes pending since before ARGV[2].
const POLL = `${ANNOUNCE_SCRIPT}
redis.call('SET', KEYS[1], ARGV[1], 'NX')
for _, hash in ipairs(redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', ARGV[2])) do announce(hash) end
return { redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]) or '0', redis.call('GET', KEYS[3]) or '0' }
`;

const normalize = (identifier: ErasableIdentifier): string =>
  identifier.type === 'email' ? identifier.value.trim().toLowerCase() : identifier.value;

/**
 * The identities whose erasure was requested, so ingest drops their new events until a consent
 * opt-in re-consents them. MongoDB holds only keyed hashes of the identifiers (a copy of the
 * database does not list who asked to be forgotten); every replica keeps the hashes in memory, so
 * the hot path costs no round trip. The replica that takes the request (or the opt-in) applies it at
 * once and announces the changed hashes in a Redis change feed before answering; every replica polls
 * the feed every INGEST_ERASED_REFRESH_MS (one Redis call) and reads only the hashes changed since,
 * by `_id`. Everything is read once at boot, and again if Redis loses the feed.
 */
@Injectable()
export class ErasedIdentities implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ErasedIdentities.name);
  private readonly identities: Collection<ErasedIdentityDocument>;
  private readonly key: Buffer;
  private readonly erased = new Set<string>();
  /** The feed as far as this replica has applied it. */
  private feed: { epoch: string; seq: number } | undefined;
  /** Names the feed this replica would start, if it finds none. */
  private readonly newEpoch = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  /** Polls and local writes run one at a time, so a poll read before a local change cannot undo it. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(MONGO_DB) db: Db,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(IngestEnv) private readonly env: IngestEnv,
  ) {
    this.identities = db.collection<ErasedIdentityDocument>('erased_identities');
    this.key = createHmac(
      'sha256',
      env.INGEST_SECRET_KEY ? Buffer.from(env.INGEST_SECRET_KEY, 'hex') : env.MESH_ADMIN_TOKEN,
    )
      .update('ingest erased identities')
      .digest();
  }

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) =>
        this.logger.warn(`could not refresh the erased identities: ${String(error)}`),
      );
    }, this.env.INGEST_ERASED_REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Marks the identities erased (before the erasure is announced, so no later event slips through). */
  erase(identifiers: ErasableIdentifier[], requestId: string, at: Date): Promise<void> {
    return this.exclusive(() => this.eraseNow(identifiers, requestId, at));
  }

  private async eraseNow(identifiers: ErasableIdentifier[], requestId: string, at: Date): Promise<void> {
    if (identifiers.length === 0) return;
    const hashes = identifiers.map((identifier) => this.hash(identifier));
    await this.changing(hashes, () =>
      this.identities.bulkWrite(
        hashes.map((hash) => ({
          updateOne: {
            filter: { _id: hash },
            update: {
              $set: { erased: true, erasedAt: at, requestId, changedAt: new Date() },
              $unset: { reconsentedAt: '' },
              $setOnInsert: { schemaVersion: 1 as const },
            },
            upsert: true,
          },
        })),
        { ordered: false },
      ),
    );
    for (const hash of hashes) this.erased.add(hash);
  }

  /**
   * Lifts the block for identities the person opted in with, stated at `at`; a statement older
   * than the erasure (a replayed or back-dated opt-in) does not lift it.
   */
  reconsent(identifiers: ErasableIdentifier[], at: Date): Promise<void> {
    return this.exclusive(() => this.reconsentNow(identifiers, at));
  }

  private async reconsentNow(identifiers: ErasableIdentifier[], at: Date): Promise<void> {
    const hashes = [...new Set(identifiers.map((identifier) => this.hash(identifier)))];
    if (!hashes.some((hash) => this.erased.has(hash))) {
      // Another replica may have erased it since our last poll: its erasure is in the feed.
      await this.refreshNow();
      if (!hashes.some((hash) => this.erased.has(hash))) return;
    }
    const now = new Date();
    // By `_id`, one at a time (a person has a few identifiers; `$in` would read every row).
    const lifted = await this.changing(hashes, () =>
      Promise.all(
        hashes.map(async (hash) => {
          await this.identities.updateOne(
            { _id: hash, erased: true, erasedAt: { $lte: at } },
            { $set: { erased: false, reconsentedAt: now, changedAt: now } },
          );
          const document = await this.identities.findOne({ _id: hash }, { projection: { erased: 1 } });
          return document?.erased === false ? hash : undefined;
        }),
      ),
    );
    for (const hash of lifted) if (hash) this.erased.delete(hash);
  }

  /** True when any of the identities is erased and not re-consented; in memory, no round trip. */
  isErased(identifiers: ErasableIdentifier[]): boolean {
    if (this.erased.size === 0) return false;
    return identifiers.some((identifier) => this.erased.has(this.hash(identifier)));
  }

  /** Applies every change announced since the last poll (by any replica). */
  refresh(): Promise<void> {
    return this.exclusive(() => this.refreshNow());
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * A change of the store announced in the feed: pending before it (so a writer dying in between is
   * found by the others' polls), announced after it, before the caller is answered.
   */
  private async changing<T>(hashes: string[], write: () => Promise<T>): Promise<T> {
    await this.redis.zadd(FEED.pending, ...hashes.flatMap((hash) => [Date.now(), hash]));
    const result = await write();
    await this.redis.eval(ANNOUNCE, FEED_KEYS.length, ...FEED_KEYS, this.newEpoch, ...hashes);
    return result;
  }

  private async refreshNow(): Promise<void> {
    const [epoch, seqText, floorText] = (await this.redis.eval(
      POLL,
      FEED_KEYS.length,
      ...FEED_KEYS,
      this.newEpoch,
      Date.now() - PENDING_MS,
    )) as [string, string, string];
    const seq = Number(seqText);
    const known = this.feed;
    if (known?.epoch === epoch && known.seq === seq) return;
    if (known?.epoch !== epoch || Number(floorText) > known.seq || seq - known.seq > MAX_READ_BY_ID) {
      await this.readAll();
    } else {
      const changed = await this.redis.zrangebyscore(FEED.changes, `(${known.seq}`, seq);
      await Promise.all(
        changed.map(async (hash) => {
          const document = await this.identities.findOne({ _id: hash }, { projection: { erased: 1 } });
          if (document?.erased) this.erased.add(hash);
          else this.erased.delete(hash);
        }),
      );
    }
    this.feed = { epoch, seq };
  }

  /** Every erased identity, each read once (at boot, or when the feed cannot say what changed). */
  private async readAll(): Promise<void> {
    const erased = await this.identities
      .find({ erased: true }, { projection: { _id: 1 } })
      .map((document) => document._id)
      .toArray();
    this.erased.clear();
    for (const hash of erased) this.erased.add(hash);
  }

  private hash(identifier: ErasableIdentifier): string {
    return createHmac('sha256', this.key)
      .update(`${identifier.type}\u0000${normalize(identifier)}`)
      .digest('base64url');
  }
}

/** The person identifiers a call carries: its userId (and alias's previousId), emails in traits and context. */
export function identifiersOf(event: {
  userId?: string | undefined;
  previousId?: unknown;
  traits?: unknown;
  context?: Record<string, unknown> | undefined;
}): ErasableIdentifier[] {
  const identifiers: ErasableIdentifier[] = [];
  const addUser = (value: unknown) => {
    if (typeof value !== 'string' || value === '') return;
    identifiers.push({ type: 'user_id', value });
    // A user id that is an address is that address too.
    if (value.includes('@')) identifiers.push({ type: 'email', value });
  };
  const addEmail = (traits: unknown) => {
    const email = (traits as { email?: unknown } | undefined)?.email;
    if (typeof email === 'string' && email !== '') identifiers.push({ type: 'email', value: email });
  };
  addUser(event.userId);
  addUser(event.previousId);
  addEmail(event.traits);
  addEmail(event.context?.traits);
  return identifiers;
}
