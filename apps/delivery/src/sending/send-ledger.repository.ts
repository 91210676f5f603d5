import { Inject, Injectable, Logger } from '@nestjs/common';
import { MONGO_DB, REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { type Collection, type Db, MongoServerError } from 'mongodb';

/**
 * `sending`: claimed, SMTP call under way (or the process died during it); `needs_review`: left
 * `sending` past the reconciliation delay, waiting for an operator (or the ESP's report) to say whether
 * it went out; `retryable`: certainly not sent (yet); `sent`; `bounced`: refused for good (5xx);
 * `failed`: still refused (4xx) after the last attempt.
 */
export type SendStatus =
  | 'sending'
  | 'needs_review'
  | 'retryable'
  | 'sent'
  | 'bounced'
  | 'failed'
  /** Written by earlier versions for a 5xx; read as `bounced`. */
  | 'rejected';

export interface SendRecord {
  key: string;
  campaignId: string;
  variant?: string;
  templateId?: string;
  to: string;
  profileId: string;
  triggerKey: string;
  createdAt: Date;
  updatedAt: Date;
  status: SendStatus;
  smtpMessageId: string;
  sentAt?: Date;
  attempts: number;
  /** Id of the rendered message that holds the send (absent on entries written before it was kept). */
  claimedBy?: string;
  /** Why the last attempt failed, for a rejected or retryable send. */
  error?: string;
}

interface SendDocument {
  /** The send key: one email per (campaign, profile, trigger key). */
  _id: string;
  campaignId: string;
  variant?: string;
  templateId?: string;
  profileId: string;
  triggerKey: string;
  to: string;
  status: SendStatus;
  smtpMessageId: string;
  attempts: number;
  claimedBy?: string;
  error?: string;
  createdAt: Date;
  updatedAt: Date;
  sentAt?: Date;
  schemaVersion: 1;
}

export interface SendClaim {
  key: string;
  campaignId: string;
  variant?: string;
  templateId: string;
  profileId: string;
  triggerKey: string;
  to: string;
  smtpMessageId: string;
  /** The rendered message claiming the send. */
  messageId: string;
}

/** Keys of the sends claimed and not settled, scored by when they were claimed (ms). */
const SENDING = '{sends}:sending';
/** Set once the index holds every unsettled send of the ledger (absent: Redis lost it, rebuild). */
const INDEXED = '{sends}:indexed';
/** One replica rebuilds at a time. */
const REBUILDING = '{sends}:rebuilding';
const REBUILD_LOCK_MS = 600_000;
const REBUILD_CHUNK = 500;
const FINAL: ReadonlySet<SendStatus> = new Set(['sent', 'bounced', 'failed', 'rejected']);

// Sends claimed before ARGV[1] (null while the index is not built): nothing stale, nothing read.
const CLAIMED_BEFORE = `
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, ARGV[2])
`;

/**
 * The send ledger: written before the SMTP call and settled after it. Which sends are claimed and
 * not settled is indexed in a Redis sorted set (written before the claim, cleared after the
 * settlement), so the reconciliation of interrupted sends reads the ledger only for those, by
 * `_id`; the ledger stays the truth, and the index is rebuilt from it if Redis loses it.
 */
@Injectable()
export class SendLedgerRepository {
  private readonly logger = new Logger(SendLedgerRepository.name);
  private readonly sends: Collection<SendDocument>;
  private rebuilding?: Promise<void>;

  constructor(
    @Inject(MONGO_DB) db: Db,
    @Inject(REDIS) private readonly redis: Redis,
  ) {
    this.sends = db.collection<SendDocument>('sends');
  }

  /**
   * Claims the right to send: true when this call may send now (a new key, or one whose previous
   * attempt is known not to have reached the server); otherwise the existing record.
   */
  async claim(
    claim: SendClaim,
  ): Promise<{ granted: true; attempts: number } | { granted: false; existing: SendRecord }> {
    const now = new Date();
    // Indexed before the ledger says `sending`: a crash after the claim is always found.
    await this.redis.zadd(SENDING, now.getTime(), claim.key);
    try {
      await this.sends.insertOne({
        _id: claim.key,
        campaignId: claim.campaignId,
        ...(claim.variant ? { variant: claim.variant } : {}),
        templateId: claim.templateId,
        profileId: claim.profileId,
        triggerKey: claim.triggerKey,
        to: claim.to,
        status: 'sending',
        smtpMessageId: claim.smtpMessageId,
        attempts: 1,
        claimedBy: claim.messageId,
        createdAt: now,
        updatedAt: now,
        schemaVersion: 1,
      });
      return { granted: true, attempts: 1 };
    } catch (error) {
      if (!(error instanceof MongoServerError) || error.code !== 11000) throw error;
    }
    const retried = await this.sends.findOneAndUpdate(
      { _id: claim.key, status: 'retryable' },
      { $set: { status: 'sending', claimedBy: claim.messageId, updatedAt: now }, $inc: { attempts: 1 } },
      { returnDocument: 'after' },
    );
    if (retried) return { granted: true, attempts: retried.attempts };
    const existing = await this.sends.findOne({ _id: claim.key });
    if (!existing) throw new Error(`send ${claim.key} vanished while claiming it`);
    // A settled send never goes back to `sending`: the entry just written is not needed.
    if (FINAL.has(existing.status)) await this.redis.zrem(SENDING, claim.key);
    return { granted: false, existing: this.record(existing) };
  }

  async settle(
    key: string,
    status: Exclude<SendStatus, 'sending' | 'needs_review'>,
    error?: string,
    now = new Date(),
  ): Promise<void> {
    await this.sends.updateOne(
      { _id: key },
      {
        $set: {
          status,
          updatedAt: now,
          ...(status === 'sent' ? { sentAt: now } : {}),
          ...(error ? { error } : {}),
        },
      },
    );
    await this.redis.zrem(SENDING, key);
  }

  /**
   * Marks sends claimed before `claimedBefore` and never settled for review; returns how many.
   * Reads only the sends the index says are unsettled and that old (each by `_id`).
   */
  async markStaleForReview(claimedBefore: Date, limit = 1_000): Promise<number> {
    const keys = (await this.redis.eval(
      CLAIMED_BEFORE,
      2,
      SENDING,
      INDEXED,
      claimedBefore.getTime(),
      limit,
    )) as string[] | null;
    if (keys === null) {
      this.rebuilding ??= this.rebuild()
        .catch((error: unknown) => this.logger.warn(`rebuilding the sending index failed: ${String(error)}`))
        .finally(() => (this.rebuilding = undefined));
      return 0;
    }
    let marked = 0;
    for (const key of keys) {
      const document = await this.sends.findOne({ _id: key }, { projection: { status: 1, updatedAt: 1 } });
      if (document?.status !== 'sending') {
        await this.redis.zrem(SENDING, key);
      } else if (document.updatedAt >= claimedBefore) {
        // Claimed again since (a retry): due when that claim is old.
        await this.redis.zadd(SENDING, document.updatedAt.getTime(), key);
      } else {
        const result = await this.sends.updateOne(
          { _id: key, status: 'sending', updatedAt: document.updatedAt },
          { $set: { status: 'needs_review', updatedAt: new Date() } },
        );
        if (result.modifiedCount === 1) {
          marked++;
          await this.redis.zrem(SENDING, key);
        }
      }
    }
    return marked;
  }

  /**
   * Indexes every send the ledger holds as `sending` (entries written meanwhile keep their score),
   * then marks the index built: each send read once, when Redis has lost the index.
   */
  private async rebuild(): Promise<void> {
    const locked = await this.redis.set(REBUILDING, '1', 'PX', REBUILD_LOCK_MS, 'NX');
    if (locked !== 'OK') return;
    try {
      const cursor = this.sends.find(
        { status: 'sending' },
        { projection: { _id: 1, updatedAt: 1 }, batchSize: REBUILD_CHUNK },
      );
      let chunk: (string | number)[] = [];
      for await (const document of cursor) {
        chunk.push(document.updatedAt.getTime(), document._id);
        if (chunk.length >= 2 * REBUILD_CHUNK) {
          await this.redis.zadd(SENDING, 'NX', ...chunk);
          chunk = [];
        }
      }
      if (chunk.length > 0) await this.redis.zadd(SENDING, 'NX', ...chunk);
      await this.redis.set(INDEXED, new Date().toISOString());
    } finally {
      await this.redis.del(REBUILDING);
    }
  }

  async find(key: string): Promise<SendRecord | undefined> {
    const document = await this.sends.findOne({ _id: key });
    return document ? this.record(document) : undefined;
  }

  async listByStatus(status: SendStatus, limit: number): Promise<SendRecord[]> {
    const documents = await this.sends.find({ status }).sort({ updatedAt: 1 }).limit(limit).toArray();
    return documents.map((document) => this.record(document));
  }

  /**
   * An operator's (or the ESP's) answer for a send whose outcome was unknown: `sent`, or `retryable`
   * when it certainly did not go out. Only a send still unknown changes; returns whether it did.
   */
  async resolveUnknown(key: string, status: 'sent' | 'retryable', note: string): Promise<boolean> {
    const now = new Date();
    const result = await this.sends.updateOne(
      { _id: key, status: { $in: ['sending', 'needs_review'] } },
      { $set: { status, updatedAt: now, error: note, ...(status === 'sent' ? { sentAt: now } : {}) } },
    );
    if (result.modifiedCount === 1) await this.redis.zrem(SENDING, key);
    return result.modifiedCount === 1;
  }

  /**
   * Erasure: removes the address, profile and trigger key from the sends of these profiles or
   * addresses, keeping the key (so nothing is sent twice), campaign, status and times for the totals.
   * Returns the addresses found, for the suppression list's hashes.
   */
  async erase(
    profileIds: readonly string[],
    addresses: readonly string[],
  ): Promise<{ addresses: string[]; scrubbed: number }> {
    const filter = { $or: [{ profileId: { $in: [...profileIds] } }, { to: { $in: [...addresses] } }] };
    const found = await this.sends.distinct('to', filter);
    const result = await this.sends.updateMany(filter, {
      $set: { to: 'erased', profileId: 'erased', triggerKey: 'erased', updatedAt: new Date() },
      $unset: { error: '' },
    });
    return { addresses: found.filter((address) => address !== 'erased'), scrubbed: result.modifiedCount };
  }

  private record(document: SendDocument): SendRecord {
    return {
      key: document._id,
      campaignId: document.campaignId,
      ...(document.variant ? { variant: document.variant } : {}),
      ...(document.templateId ? { templateId: document.templateId } : {}),
      to: document.to,
      profileId: document.profileId,
      triggerKey: document.triggerKey,
      createdAt: document.createdAt,
      updatedAt: document.updatedAt,
      status: document.status,
      smtpMessageId: document.smtpMessageId,
      attempts: document.attempts,
      ...(document.sentAt ? { sentAt: document.sentAt } : {}),
      ...(document.claimedBy ? { claimedBy: document.claimedBy } : {}),
      ...(document.error ? { error: document.error } : {}),
    };
  }
}
