import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';
import { addressHash } from '../decisions/suppression.repository.js';

interface EspEventDocument {
  /** `<provider>:<the ESP's event id>`. */
  _id: string;
  kind: string;
  processedAt: Date;
  schemaVersion: 1;
}

interface SoftBounceDocument {
  /** `<address hash>:<bounce id>` — the send key when known, so SMTP and ESP reports of one email count once. */
  _id: string;
  addressHash: string;
  at: Date;
  schemaVersion: 1;
}

/** What the ESP already told us (by its event id) and the soft bounces counted per address (hashed). */
@Injectable()
export class FeedbackRepository implements OnModuleInit {
  private readonly events: Collection<EspEventDocument>;
  private readonly softBounces: Collection<SoftBounceDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.events = db.collection<EspEventDocument>('esp_events');
    this.softBounces = db.collection<SoftBounceDocument>('soft_bounces');
  }

  async onModuleInit(): Promise<void> {
    await this.softBounces.createIndex({ addressHash: 1, at: 1 });
  }

  async isProcessed(eventKey: string): Promise<boolean> {
    return (await this.events.findOne({ _id: eventKey }, { projection: { _id: 1 } })) !== null;
  }

  /** Written after the event's effects, so a call that fails half-way is processed again in full. */
  async markProcessed(eventKey: string, kind: string, at: Date): Promise<void> {
    await this.events.updateOne(
      { _id: eventKey },
      { $setOnInsert: { kind, processedAt: at, schemaVersion: 1 } },
      { upsert: true },
    );
  }

  /** Counts one soft bounce (once per bounce id) and returns the address's soft bounces since `since`. */
  async countSoftBounce(address: string, bounceId: string, at: Date, since: Date): Promise<number> {
    const hash = addressHash(address);
    await this.softBounces.updateOne(
      { _id: `${hash}:${bounceId}` },
      { $setOnInsert: { addressHash: hash, at, schemaVersion: 1 } },
      { upsert: true },
    );
    return this.softBounces.countDocuments({ addressHash: hash, at: { $gte: since } });
  }

  async erase(addresses: readonly string[]): Promise<number> {
    if (addresses.length === 0) return 0;
    const result = await this.softBounces.deleteMany({ addressHash: { $in: addresses.map(addressHash) } });
    return result.deletedCount;
  }
}
