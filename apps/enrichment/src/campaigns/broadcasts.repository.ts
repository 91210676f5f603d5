import { Inject, Injectable } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';

export interface Broadcast {
  broadcastId: string;
  campaignId: string;
  segmentId: string;
  ratePerSecond: number;
  status: 'running' | 'done';
  /** The last profile id done: a restarted broadcast goes on after it. */
  cursor?: string;
  sent: number;
  heldOut: number;
  startedAt: string;
  finishedAt?: string;
}

interface BroadcastDocument extends Omit<Broadcast, 'broadcastId'> {
  _id: string;
  schemaVersion: 1;
}

@Injectable()
export class BroadcastsRepository {
  private readonly broadcasts: Collection<BroadcastDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.broadcasts = db.collection<BroadcastDocument>('broadcasts');
  }

  async create(broadcast: Broadcast): Promise<boolean> {
    const { broadcastId, ...fields } = broadcast;
    try {
      await this.broadcasts.insertOne({ _id: broadcastId, ...fields, schemaVersion: 1 });
      return true;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === 11000) return false;
      throw error;
    }
  }

  async get(broadcastId: string): Promise<Broadcast | undefined> {
    const document = await this.broadcasts.findOne({ _id: broadcastId });
    return document ? this.toBroadcast(document) : undefined;
  }

  async running(): Promise<Broadcast[]> {
    const documents = await this.broadcasts.find({ status: 'running' }).toArray();
    return documents.map((document) => this.toBroadcast(document));
  }

  async progress(
    broadcastId: string,
    progress: Pick<Broadcast, 'cursor' | 'sent' | 'heldOut'>,
  ): Promise<void> {
    await this.broadcasts.updateOne({ _id: broadcastId }, { $set: progress });
  }

  async finish(broadcastId: string, finishedAt: string): Promise<void> {
    await this.broadcasts.updateOne({ _id: broadcastId }, { $set: { status: 'done', finishedAt } });
  }

  private toBroadcast({ _id, schemaVersion: _version, ...fields }: BroadcastDocument): Broadcast {
    return { broadcastId: _id, ...fields };
  }
}
