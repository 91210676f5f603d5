import { Inject, Injectable } from '@nestjs/common';
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
export class CampaignEntriesRepository {
  private readonly entries: Collection<EntryDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.entries = db.collection<EntryDocument>('campaign_entries');
  }

  async get(campaignId: string, profileId: string): Promise<Entry | undefined> {
    const document = await this.entries.findOne({ _id: idOf(campaignId, profileId) });
    if (!document) return undefined;
    return { triggerKey: document.triggerKey, state: document.state, enteredAt: document.enteredAt };
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

  async removeProfiles(profileIds: readonly string[]): Promise<number> {
    if (profileIds.length === 0) return 0;
    return (await this.entries.deleteMany({ profileId: { $in: [...profileIds] } })).deletedCount;
  }
}
