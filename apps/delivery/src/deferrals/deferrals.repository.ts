import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { type Envelope, type RenderedEmailPayload } from '@mesh/contracts';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';

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
  createdAt: Date;
  schemaVersion: 1;
}

export type DeferOutcome = 'deferred' | 'duplicate';

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

  /** Due sends, highest priority first (they take the cap's slots first), then oldest due. */
  async due(now: Date, limit: number): Promise<string[]> {
    const documents = await this.deferrals
      .find({ dueAt: { $lte: now }, leasedUntil: { $lte: now } }, { projection: { _id: 1 } })
      .sort({ priority: -1, dueAt: 1 })
      .limit(limit)
      .toArray();
    return documents.map((document) => document._id);
  }

  /** Takes one due send for `leaseMs`; undefined when another poller has it. */
  async lease(key: string, now: Date, leaseMs: number): Promise<DeferredSend | undefined> {
    const document = await this.deferrals.findOneAndUpdate(
      { _id: key, dueAt: { $lte: now }, leasedUntil: { $lte: now } },
      { $set: { leasedUntil: new Date(now.getTime() + leaseMs) } },
      { returnDocument: 'after' },
    );
    if (!document) return undefined;
    return {
      key: document._id,
      envelope: JSON.parse(document.envelope) as Envelope<RenderedEmailPayload>,
      dueAt: document.dueAt,
      priority: document.priority,
      reason: document.reason,
    };
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
}
