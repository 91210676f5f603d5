import { Injectable, type OnModuleInit } from '@nestjs/common';
import { type Campaign } from './campaign.js';
import { CampaignsRepository } from './campaigns.repository.js';

/** How stale another replica's campaign changes may be here. */
const REFRESH_MS = 5_000;

/** The campaigns in memory, so each event is matched without a database read. */
@Injectable()
export class CampaignRegistry implements OnModuleInit {
  private campaigns = new Map<string, Campaign>();
  private loadedAt = 0;
  private loading?: Promise<void>;

  constructor(private readonly repository: CampaignsRepository) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
  }

  async reload(): Promise<void> {
    this.loading ??= this.repository
      .all()
      .then((campaigns) => {
        this.campaigns = new Map(campaigns.map((campaign) => [campaign.campaignId, campaign]));
        this.loadedAt = Date.now();
      })
      .finally(() => {
        this.loading = undefined;
      });
    await this.loading;
  }

  async all(): Promise<Campaign[]> {
    if (Date.now() - this.loadedAt > REFRESH_MS) await this.reload();
    return [...this.campaigns.values()];
  }

  async get(campaignId: string): Promise<Campaign | undefined> {
    if (Date.now() - this.loadedAt > REFRESH_MS) await this.reload();
    return this.campaigns.get(campaignId);
  }
}
