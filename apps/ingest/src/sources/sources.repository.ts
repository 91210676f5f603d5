import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';
import { hashWriteKey, type Source } from './source.js';

interface SourceDocument {
  _id: string;
  name: string;
  writeKeyHash: string;
  enabled: boolean;
  createdAt: Date;
  schemaVersion: 1;
}

@Injectable()
export class SourcesRepository implements OnModuleInit {
  private readonly sources: Collection<SourceDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.sources = db.collection<SourceDocument>('sources');
  }

  async onModuleInit(): Promise<void> {
    await this.sources.createIndex({ writeKeyHash: 1 }, { unique: true, name: 'write_key_unique' });
  }

  async findByWriteKey(writeKey: string): Promise<Source | undefined> {
    const document = await this.sources.findOne({ writeKeyHash: hashWriteKey(writeKey) });
    return document ? { id: document._id, name: document.name, enabled: document.enabled } : undefined;
  }

  /** Creates the source, or sets its name and write key if it exists. */
  async upsert(source: Source, writeKey: string): Promise<void> {
    await this.sources.updateOne(
      { _id: source.id },
      {
        $set: { name: source.name, enabled: source.enabled, writeKeyHash: hashWriteKey(writeKey) },
        $setOnInsert: { createdAt: new Date(), schemaVersion: 1 },
      },
      { upsert: true },
    );
  }
}
