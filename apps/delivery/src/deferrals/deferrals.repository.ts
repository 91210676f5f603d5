import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { type Envelope, type RenderedEmailPayload } from '@mesh/contracts';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';

/**
 * The reason of a send held back for the priority window: internal (no `delivery.deferred` is
 * announced for it); its window's sends are released together, highest priority first.
 */
export const PRIORITY_HOLD = 'priority_window';

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
  /** While a poller releases it; a crashed poller's lease runs out and another takes it. */
  leasedUntil: Date;
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
   * Holds a send back for the priority window: one insert (FerretDB's cheapest write). The same
   * rendered message again changes nothing; another message for the same send key is a duplicate.
   */
  async hold(send: DeferredSend): Promise<DeferOutcome> {
    const now = new Date();
    try {
      await this.deferrals.insertOne({
        _id: send.key,
        envelope: JSON.stringify(send.envelope),
        envelopeId: send.envelope.id,
        profileId: send.envelope.profileId ?? '',
        dueAt: send.dueAt,
        priority: send.priority,
        reason: PRIORITY_HOLD,
        leasedUntil: new Date(0),
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
   * Due sends (not leased), highest priority first, then first due, then first arrived. Held sends
   * only once their window is `heldGraceMs` past (the release at the window's end missed them).
   */
  async due(now: Date, limit: number, heldGraceMs: number): Promise<DueSend[]> {
    const documents = await this.deferrals
      .find(
        {
          leasedUntil: { $lte: now },
          $or: [
            { reason: { $ne: PRIORITY_HOLD }, dueAt: { $lte: now } },
            { reason: PRIORITY_HOLD, dueAt: { $lte: new Date(now.getTime() - heldGraceMs) } },
          ],
        },
        { projection: { _id: 1, profileId: 1 } },
      )
      .sort({ priority: -1, dueAt: 1, arrivedAt: 1, createdAt: 1 })
      .limit(limit)
      .toArray();
    return documents.map((document) => ({ key: document._id, profileId: document.profileId }));
  }

  /** Takes one due send for `leaseMs` (by `_id`); undefined when another release has it or it is gone. */
  async lease(key: string, now: Date, leaseMs: number): Promise<DeferredSend | undefined> {
    const document = await this.deferrals.findOneAndUpdate(
      { _id: key, dueAt: { $lte: now }, leasedUntil: { $lte: now } },
      { $set: { leasedUntil: new Date(now.getTime() + leaseMs) } },
      { returnDocument: 'after' },
    );
    return document ? this.deferredSend(document) : undefined;
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
      ...(document.arrivedAt !== undefined ? { arrivedAt: document.arrivedAt } : {}),
    };
  }
}
