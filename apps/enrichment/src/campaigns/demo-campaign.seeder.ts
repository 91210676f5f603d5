import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EnrichmentEnv } from '../config.js';
import { DEMO_CAMPAIGN } from './campaign.js';
import { CampaignsRepository } from './campaigns.repository.js';

@Injectable()
export class DemoCampaignSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(DemoCampaignSeeder.name);

  constructor(
    private readonly campaigns: CampaignsRepository,
    @Inject(EnrichmentEnv) private readonly env: EnrichmentEnv,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.env.MESH_DEMO) return;
    await this.campaigns.save(DEMO_CAMPAIGN);
    this.logger.log(`demo campaign "${DEMO_CAMPAIGN.campaignId}" is ready`);
  }
}
