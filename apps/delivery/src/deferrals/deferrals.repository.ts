import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { type Envelope, type RenderedEmailPayload } from '@mesh/contracts';
import { MONGO_DB } from '@mesh/storage';
import { randomUUID } from 'node:crypto';
import { type Collection, type Db, MongoServerError } from 'mongodb';

/**
 * The reason of a send held back for the priority window: internal (no `delivery.deferred` is
 * announced for it), released as a group per profile, highest priority first.
 */
export const PRIORITY_HOLD = 'priority_window';

export interface DeferredSend {
  key: string;
  envelope: Envelope<RenderedEmailPayload>;
  dueAt: Date;
  priority: number;
  reason: string;
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
  /** While a poller releases it; a crashed poller's lease runs out and another takes it. */
  leasedUntil: Date;
  /** Which release holds the lease (a held group is leased as a whole). */
  leaseToken?: string;
  /** When a held send arrived (ms, sub-ms precision): the order among sends of equal priority. */
  arrivedAt?: number;
  createdAt: Date;
  schemaVersion: 1;
}

export type DeferOutcome = 'deferred' | 'duplicate';

/** A due entry: enough to release it (a held one with its profile's whole group). */
export interface DueSend {
  key: string;
  profileId: string;
  priority: number;
  reason: string;
}

/** Sends waiting for a later time (quiet hours), in MongoDB so they survive restarts. */
@Injectable()
export class DeferralsRepository implements OnModuleInit {
  private readonly deferrals: Collection<DeferralDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.deferrals = db.collection<DeferralDocument>('deferred_sends');
  }

  async onModuleInit(): Promise<void> {
    await this.deferrals.createIndex({ dueAt: 1 });
    await this.deferrals.createIndex({ profileId: 1 });
  }

  /**
   * Parks the send until `dueAt`. The same rendered message again only moves its time; another
   * message for the same send key is a duplicate.
   */
  async defer(send: DeferredSend): Promise<DeferOutcome> {
    const profileId = send.envelope.profileId ?? '';
    try {
      await this.deferrals.updateOne(
        { _id: send.key, envelopeId: send.envelope.id },
        {
          $set: { dueAt: send.dueAt, reason: send.reason, leasedUntil: new Date(0) },
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
   * When a held send of this profile is released: the end of the profile's open priority window
   * (one still to come), else a new window from now.
   */
  async holdUntil(profileId: string, now: Date, windowMs: number): Promise<Date> {
    const open = await this.deferrals.findOne(
      { profileId, reason: PRIORITY_HOLD, dueAt: { $gt: now } },
      { projection: { dueAt: 1 } },
    );
    return open?.dueAt ?? new Date(now.getTime() + windowMs);
  }

  /**
   * Holds a send back for the priority window. The same rendered message again changes nothing;
   * another message for the same send key is a duplicate.
   */
  async hold(send: DeferredSend): Promise<DeferOutcome> {
    try {
      await this.deferrals.updateOne(
        { _id: send.key, envelopeId: send.envelope.id },
        {
          $setOnInsert: {
            envelope: JSON.stringify(send.envelope),
            profileId: send.envelope.profileId ?? '',
            dueAt: send.dueAt,
            priority: send.priority,
            reason: PRIORITY_HOLD,
            leasedUntil: new Date(0),
            arrivedAt: performance.timeOrigin + performance.now(),
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
   * Due sends, highest priority first (they take the cap's slots first), then oldest due, then
   * first arrived.
   */
  async due(now: Date, limit: number): Promise<DueSend[]> {
    const documents = await this.deferrals
      .find(
        { dueAt: { $lte: now }, leasedUntil: { $lte: now } },
        { projection: { _id: 1, profileId: 1, priority: 1, reason: 1 } },
      )
      .sort({ priority: -1, dueAt: 1, arrivedAt: 1, createdAt: 1 })
      .limit(limit)
      .toArray();
    return documents.map((document) => ({
      key: document._id,
      profileId: document.profileId,
      priority: document.priority,
      reason: document.reason,
    }));
  }

  /**
   * Takes all of a profile's due held sends at once for `leaseMs` (so one poller decides the whole
   * group, in order), highest priority first, then first arrived.
   */
  async leaseHeldGroup(profileId: string, now: Date, leaseMs: number): Promise<DeferredSend[]> {
    const leaseToken = randomUUID();
    await this.deferrals.updateMany(
      { profileId, reason: PRIORITY_HOLD, dueAt: { $lte: now }, leasedUntil: { $lte: now } },
      { $set: { leasedUntil: new Date(now.getTime() + leaseMs), leaseToken } },
    );
    const documents = await this.deferrals
      .find({ profileId, leaseToken })
      .sort({ priority: -1, arrivedAt: 1 })
      .toArray();
    return documents.map((document) => this.deferredSend(document));
  }

  /** Takes one due send for `leaseMs`; undefined when another poller has it. */
  async lease(key: string, now: Date, leaseMs: number): Promise<DeferredSend | undefined> {
    const document = await this.deferrals.findOneAndUpdate(
      { _id: key, dueAt: { $lte: now }, leasedUntil: { $lte: now } },
      { $set: { leasedUntil: new Date(now.getTime() + leaseMs) } },
      { returnDocument: 'after' },
    );
    if (!document) return undefined;
    return this.deferredSend(document);
  }

  /** Done with a released send (sent, skipped or failed for good). */
  async remove(key: string): Promise<void> {
    await this.deferrals.deleteOne({ _id: key });
  }

  /** Gives a send back to wait (its release failed for a moment) until `retryAt`. */
  async retryAt(key: string, retryAt: Date): Promise<void> {
    await this.deferrals.updateOne({ _id: key }, { $set: { leasedUntil: retryAt } });
  }

  async eraseProfiles(profileIds: readonly string[]): Promise<number> {
    return (await this.deferrals.deleteMany({ profileId: { $in: [...profileIds] } })).deletedCount;
  }

  private deferredSend(document: DeferralDocument): DeferredSend {
    return {
      key: document._id,
      envelope: JSON.parse(document.envelope) as Envelope<RenderedEmailPayload>,
      dueAt: document.dueAt,
      priority: document.priority,
      reason: document.reason,
    };
  }
}
