import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { type Envelope, type RenderedEmailPayload } from '@mesh/contracts';
import { MONGO_DB, REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { type Collection, type Db, MongoServerError } from 'mongodb';

/**
 * The reason of a send held back for the priority window: internal (no `delivery.deferred` is
 * announced for it); its window's sends are released together, highest priority first.
 */
export const PRIORITY_HOLD = 'priority_window';

/**
 * The poll takes held sends only this long after their window ended: until then the release woken
 * at the window's end has them (taken from the window in Redis, so without a lease).
 */
export const HELD_GRACE_MS = 120_000;

export interface DeferredSend {
  key: string;
  envelope: Envelope<RenderedEmailPayload>;
  dueAt: Date;
  priority: number;
  reason: string;
  /** For held sends: when it arrived (orders sends of equal priority). */
  arrivedAt?: number;
}

interface DeferralDocument {
  /** The send key: one waiting send per (campaign, profile, trigger key). */
  _id: string;
  /** The rendered envelope as JSON text: its data may hold keys MongoDB cannot store. */
  envelope: string;
  envelopeId: string;
  profileId: string;
  dueAt: Date;
  priority: number;
  reason: string;
  /** When a held send arrived (ms, sub-ms precision): the order among sends of equal priority. */
  arrivedAt?: number;
  createdAt: Date;
  schemaVersion: 1;
}

export type DeferOutcome = 'deferred' | 'duplicate';

export interface DueSend {
  key: string;
  profileId: string;
}

/** Separates a send key from its profile id in a member of the due index. */
const SEP = '\u001f';
const member = (key: string, profileId: string) => `${key}${SEP}${profileId}`;

/** The due index: a member per waiting send, scored by when the poll may take it (ms). */
const DUE = '{deferrals}:due';
/** Set once the index holds every deferral of the store (absent: Redis lost it, rebuild). */
const INDEXED = '{deferrals}:indexed';
/** One replica rebuilds at a time. */
const REBUILDING = '{deferrals}:rebuilding';
const REBUILD_LOCK_MS = 600_000;
const REBUILD_CHUNK = 500;

// The due members (null while the index is not built): ZRANGEBYSCORE costs nothing when none is due.
const DUE_NOW = `
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
`;

// Leases the members still due (another poller may have taken one): their score moves to the lease's end.
const LEASE = `
local now = tonumber(ARGV[1])
local taken = {}
for i = 3, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) <= now then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
    table.insert(taken, ARGV[i])
  end
end
return taken
`;

/** When the poll may take a waiting send: held sends only after the grace of their window. */
const pollableAt = (reason: string, dueAt: Date) =>
  dueAt.getTime() + (reason === PRIORITY_HOLD ? HELD_GRACE_MS : 0);

/**
 * Sends waiting for a later time (quiet hours, SMTP retries, the priority window): durably in
 * MongoDB (read by `_id` only), and indexed by due time in a Redis sorted set, so a poll with
 * nothing due costs one Redis call and no MongoDB read. The index is written before the store (a
 * member whose send never got stored is dropped when it comes due) and checked against the store
 * when a member is taken; if Redis loses it, it is rebuilt from the store, each deferral read once.
 */
@Injectable()
export class DeferralsRepository implements OnModuleInit {
  private readonly logger = new Logger(DeferralsRepository.name);
  private readonly deferrals: Collection<DeferralDocument>;
  private rebuilding?: Promise<void>;

  constructor(
    @Inject(MONGO_DB) db: Db,
    @Inject(REDIS) private readonly redis: Redis,
  ) {
    this.deferrals = db.collection<DeferralDocument>('deferred_sends');
  }

  async onModuleInit(): Promise<void> {
    await this.deferrals.createIndex({ profileId: 1 });
  }

  /**
   * Parks the send until `dueAt`. The same rendered message again only moves its time; another
   * message for the same send key is a duplicate.
   */
  async defer(send: DeferredSend): Promise<DeferOutcome> {
    const profileId = send.envelope.profileId ?? '';
    await this.index(send.key, profileId, pollableAt(send.reason, send.dueAt));
    try {
      await this.deferrals.updateOne(
        { _id: send.key, envelopeId: send.envelope.id },
        {
          $set: { dueAt: send.dueAt, reason: send.reason },
          $setOnInsert: {
            envelope: JSON.stringify(send.envelope),
            profileId,
            priority: send.priority,
            createdAt: new Date(),
            schemaVersion: 1,
          },
        },
        { upsert: true },
      );
      return 'deferred';
    } catch (error) {
      if (error instanceof MongoServerError && error.code === 11000) return 'duplicate';
      throw error;
    }
  }

  /**
   * Holds a send back for the priority window: one insert (FerretDB's cheapest write). The same
   * rendered message again changes nothing; another message for the same send key is a duplicate.
   */
  async hold(send: DeferredSend): Promise<DeferOutcome> {
    const now = new Date();
    const profileId = send.envelope.profileId ?? '';
    await this.index(send.key, profileId, pollableAt(PRIORITY_HOLD, send.dueAt));
    try {
      await this.deferrals.insertOne({
        _id: send.key,
        envelope: JSON.stringify(send.envelope),
        envelopeId: send.envelope.id,
        profileId,
        dueAt: send.dueAt,
        priority: send.priority,
        reason: PRIORITY_HOLD,
        arrivedAt: performance.timeOrigin + performance.now(),
        createdAt: now,
        schemaVersion: 1,
      });
      return 'deferred';
    } catch (error) {
      if (!(error instanceof MongoServerError) || error.code !== 11000) throw error;
    }
    const existing = await this.deferrals.findOne({ _id: send.key }, { projection: { envelopeId: 1 } });
    return existing?.envelopeId === send.envelope.id ? 'deferred' : 'duplicate';
  }

  /** One waiting send by its key (read by `_id`). */
  async get(key: string): Promise<DeferredSend | undefined> {
    const document = await this.deferrals.findOne({ _id: key });
    return document ? this.deferredSend(document) : undefined;
  }

  /**
   * Up to `limit` sends the poll may take at `now` (held sends only once their window is
   * HELD_GRACE_MS past), from the index alone. Empty while the index is being rebuilt.
   */
  async due(now: Date, limit: number): Promise<DueSend[]> {
    const members = (await this.redis.eval(DUE_NOW, 2, DUE, INDEXED, now.getTime(), limit)) as
      string[] | null;
    if (members === null) {
      this.rebuilding ??= this.rebuild()
        .catch((error: unknown) => this.logger.warn(`rebuilding the due index failed: ${String(error)}`))
        .finally(() => (this.rebuilding = undefined));
      return [];
    }
    return members.map((entry) => {
      const at = entry.indexOf(SEP);
      return { key: entry.slice(0, at), profileId: entry.slice(at + 1) };
    });
  }

  /**
   * Takes due sends for `leaseMs`, each read by `_id`: none another poll has taken meanwhile, none
   * gone from the store (its index entry is dropped), none the store says is not due (its entry
   * moves to the store's time).
   */
  async lease(sends: readonly DueSend[], now: Date, leaseMs: number): Promise<DeferredSend[]> {
    if (sends.length === 0) return [];
    const taken = (await this.redis.eval(
      LEASE,
      1,
      DUE,
      now.getTime(),
      now.getTime() + leaseMs,
      ...sends.map((send) => member(send.key, send.profileId)),
    )) as string[];
    const leased = await Promise.all(
      taken.map(async (entry) => {
        const key = entry.slice(0, entry.indexOf(SEP));
        const document = await this.deferrals.findOne({ _id: key });
        if (!document) {
          await this.redis.zrem(DUE, entry);
          return undefined;
        }
        const at = pollableAt(document.reason, document.dueAt);
        if (at > now.getTime()) {
          await this.redis.zadd(DUE, at, entry);
          return undefined;
        }
        return this.deferredSend(document);
      }),
    );
    return leased.filter((send) => send !== undefined);
  }

  /** Done with a released send (sent, skipped or failed for good): the store first, then the index. */
  async remove(send: DeferredSend): Promise<void> {
    await this.deferrals.deleteOne({ _id: send.key });
    await this.redis.zrem(DUE, member(send.key, send.envelope.profileId ?? ''));
  }

  /** Gives a send back to wait (its release failed for a moment) until `retryAt`. */
  async retryAt(send: DeferredSend, retryAt: Date): Promise<void> {
    await this.redis.zadd(DUE, retryAt.getTime(), member(send.key, send.envelope.profileId ?? ''));
  }

  async eraseProfiles(profileIds: readonly string[]): Promise<number> {
    let erased = 0;
    // One equality per profile (FerretDB serves it from the index; `$in` would read every deferral).
    for (const profileId of profileIds) {
      const keys = await this.deferrals
        .find({ profileId }, { projection: { _id: 1 } })
        .map((document) => document._id)
        .toArray();
      if (keys.length === 0) continue;
      erased += (await this.deferrals.deleteMany({ profileId })).deletedCount;
      await this.redis.zrem(DUE, ...keys.map((key) => member(key, profileId)));
    }
    return erased;
  }

  /**
   * Indexes a send no later than `at`: only ever earlier, so a duplicate cannot push back the time
   * of the send already stored; an entry too early costs one read when it comes due.
   */
  private async index(key: string, profileId: string, at: number): Promise<void> {
    await this.redis.zadd(DUE, 'LT', at, member(key, profileId));
  }

  /**
   * Puts every stored deferral into the index (entries written meanwhile keep their score), then
   * marks it built. Run when Redis has lost the index; one replica at a time.
   */
  private async rebuild(): Promise<void> {
    const locked = await this.redis.set(REBUILDING, '1', 'PX', REBUILD_LOCK_MS, 'NX');
    if (locked !== 'OK') return;
    try {
      const cursor = this.deferrals.find(
        {},
        { projection: { _id: 1, profileId: 1, dueAt: 1, reason: 1 }, batchSize: REBUILD_CHUNK },
      );
      let chunk: (string | number)[] = [];
      for await (const document of cursor) {
        chunk.push(pollableAt(document.reason, document.dueAt), member(document._id, document.profileId));
        if (chunk.length >= 2 * REBUILD_CHUNK) {
          await this.redis.zadd(DUE, 'NX', ...chunk);
          chunk = [];
        }
      }
      if (chunk.length > 0) await this.redis.zadd(DUE, 'NX', ...chunk);
      await this.redis.set(INDEXED, new Date().toISOString());
    } finally {
      await this.redis.del(REBUILDING);
    }
  }

  private deferredSend(document: DeferralDocument): DeferredSend {
    return {
      key: document._id,
      envelope: JSON.parse(document.envelope) as Envelope<RenderedEmailPayload>,
      dueAt: document.dueAt,
      priority: document.priority,
      reason: document.reason,
      ...(document.arrivedAt !== undefined ? { arrivedAt: document.arrivedAt } : {}),
    };
  }
}
