import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';
import { type Entry } from './campaign-decisions.js';

interface EntryDocument extends Entry {
  _id: string;
  campaignId: string;
  profileId: string;
  variant?: string;
  schemaVersion: 1;
}

const idOf = (campaignId: string, profileId: string) => `${campaignId}:${profileId}`;

/** A profile's latest entry into each campaign, for re-entry rules (durable: Redis may be rebuilt). */
@Injectable()
export class CampaignEntriesRepository implements OnModuleInit {
  private readonly entries: Collection<EntryDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.entries = db.collection<EntryDocument>('campaign_entries');
  }

  async onModuleInit(): Promise<void> {
    await this.entries.createIndex({ profileId: 1 }, { name: 'by_profile' });
  }

  async get(campaignId: string, profileId: string): Promise<Entry | undefined> {
    const document = await this.entries.findOne({ _id: idOf(campaignId, profileId) });
    return document ? entryOf(document) : undefined;
  }

  /**
   * Writes the profile's entry into a campaign if it has none, in one operation: undefined when this
   * one was written, else the entry it already had (nothing was written).
   */
  async enterFirst(
    campaignId: string,
    profileId: string,
    entry: Entry,
    variant?: string,
  ): Promise<Entry | undefined> {
    const document: Omit<EntryDocument, '_id'> = {
      campaignId,
      profileId,
      ...entry,
      ...(variant ? { variant } : {}),
      schemaVersion: 1,
    };
    const before = await this.entries.findOneAndUpdate(
      { _id: idOf(campaignId, profileId) },
      { $setOnInsert: document },
      { upsert: true, returnDocument: 'before' },
    );
    return before ? entryOf(before) : undefined;
  }

  async enter(campaignId: string, profileId: string, entry: Entry, variant?: string): Promise<void> {
    await this.entries.replaceOne(
      { _id: idOf(campaignId, profileId) },
      { campaignId, profileId, ...entry, ...(variant ? { variant } : {}), schemaVersion: 1 },
      { upsert: true },
    );
  }

  /** Moves the entry of this trigger key (if still the latest) to its next state. */
  async settle(
    campaignId: string,
    profileId: string,
    triggerKey: string,
    state: Entry['state'],
  ): Promise<void> {
    await this.entries.updateOne({ _id: idOf(campaignId, profileId), triggerKey }, { $set: { state } });
  }

  /** Erasure: an equality per profile (the collection grows with profiles; no `$in` scan). */
  async removeProfiles(profileIds: readonly string[]): Promise<number> {
    if (profileIds.length === 0) return 0;
    const removed = await Promise.all(
      [...new Set(profileIds)].map((profileId) => this.entries.deleteMany({ profileId })),
    );
    return removed.reduce((sum, result) => sum + result.deletedCount, 0);
  }
}

function entryOf(document: EntryDocument): Entry {
  return {
    triggerKey: document.triggerKey,
    state: document.state,
    enteredAt: document.enteredAt,
    ...(document.origin ? { origin: document.origin } : {}),
  };
}
