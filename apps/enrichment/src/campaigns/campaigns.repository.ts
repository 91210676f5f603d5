import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';
import { type Campaign } from './campaign.js';

interface CampaignDocument extends Omit<Campaign, 'campaignId'> {
  _id: string;
  schemaVersion: 1;
}

@Injectable()
export class CampaignsRepository implements OnModuleInit {
  private readonly campaigns: Collection<CampaignDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.campaigns = db.collection<CampaignDocument>('campaigns');
  }

  async onModuleInit(): Promise<void> {
    await this.campaigns.createIndex({ 'trigger.event': 1, enabled: 1 }, { name: 'by_trigger' });
  }

  async findEnabledForEvent(event: string): Promise<Campaign[]> {
    const documents = await this.campaigns.find({ 'trigger.event': event, enabled: true }).toArray();
    return documents.map(({ _id, schemaVersion: _version, ...campaign }) => ({
      campaignId: _id,
      ...campaign,
    }));
  }

  async save(campaign: Campaign): Promise<void> {
    const { campaignId, ...fields } = campaign;
    await this.campaigns.replaceOne({ _id: campaignId }, { ...fields, schemaVersion: 1 }, { upsert: true });
  }
}
