import { Inject, Injectable } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';

export type ConsentStatus = 'opted_in' | 'opted_out';

export interface ConsentStatement {
  status: ConsentStatus;
  source: string;
  at: Date;
}

interface ConsentDocument extends ConsentStatement {
  /** The profile id. */
  _id: string;
  updatedAt: Date;
  schemaVersion: 1;
}

/** Delivery's own view of each profile's email consent: the newest statement wins. */
@Injectable()
export class ConsentRepository {
  private readonly consents: Collection<ConsentDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.consents = db.collection<ConsentDocument>('consents');
  }

  /** Keeps `statement` unless a statement at least as new is already known (so replays change nothing). */
  async record(profileId: string, statement: ConsentStatement): Promise<void> {
    try {
      await this.consents.updateOne(
        { _id: profileId, at: { $lt: statement.at } },
        { $set: { ...statement, updatedAt: new Date(), schemaVersion: 1 } },
        { upsert: true },
      );
    } catch (error) {
      // The upsert collided with the profile's newer statement: nothing to change.
      if (!(error instanceof MongoServerError) || error.code !== 11000) throw error;
    }
  }

  async find(profileId: string): Promise<ConsentStatement | undefined> {
    const document = await this.consents.findOne({ _id: profileId });
    return document ? { status: document.status, source: document.source, at: document.at } : undefined;
  }

  async erase(profileIds: readonly string[]): Promise<number> {
    return (await this.consents.deleteMany({ _id: { $in: [...profileIds] } })).deletedCount;
  }
}
