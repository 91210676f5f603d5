import { Inject, Injectable } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';
import { decodeValue, encodeValue } from '../profiles/stored-keys.js';
import { type Campaign } from './campaign.js';

interface CampaignDocument {
  _id: string;
  /** The campaign without its id, keys encoded (rule values may hold any JSON). */
  campaign: Record<string, unknown>;
  updatedAt: Date;
  schemaVersion: 2;
}

@Injectable()
export class CampaignsRepository {
  private readonly campaigns: Collection<CampaignDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.campaigns = db.collection<CampaignDocument>('campaigns');
  }

  async all(): Promise<Campaign[]> {
    const documents = await this.campaigns.find({ schemaVersion: 2 }).sort({ _id: 1 }).toArray();
    return documents.map((document) => this.toCampaign(document));
  }

  async get(campaignId: string): Promise<Campaign | undefined> {
    const document = await this.campaigns.findOne({ _id: campaignId, schemaVersion: 2 });
    return document ? this.toCampaign(document) : undefined;
  }

  /** False when a campaign with this id exists already. */
  async create(campaign: Campaign): Promise<boolean> {
    try {
      await this.campaigns.insertOne(this.toDocument(campaign));
      return true;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === 11000) return false;
      throw error;
    }
  }

  async save(campaign: Campaign): Promise<void> {
    await this.campaigns.replaceOne({ _id: campaign.campaignId }, this.toDocument(campaign), {
      upsert: true,
    });
  }

  async remove(campaignId: string): Promise<boolean> {
    return (await this.campaigns.deleteOne({ _id: campaignId })).deletedCount === 1;
  }

  private toDocument(campaign: Campaign): CampaignDocument {
    const { campaignId, ...fields } = campaign;
    return {
      _id: campaignId,
      campaign: encodeValue(fields) as Record<string, unknown>,
      updatedAt: new Date(),
      schemaVersion: 2,
    };
  }

  private toCampaign(document: CampaignDocument): Campaign {
    return { campaignId: document._id, ...(decodeValue(document.campaign) as Omit<Campaign, 'campaignId'>) };
  }
}
