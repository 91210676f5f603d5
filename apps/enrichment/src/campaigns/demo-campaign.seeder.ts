import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EnrichmentEnv } from '../config.js';
import { demoCampaign } from './campaign.js';
import { CampaignRegistry } from './campaign-registry.js';
import { CampaignsRepository } from './campaigns.repository.js';

@Injectable()
export class DemoCampaignSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(DemoCampaignSeeder.name);

  constructor(
    private readonly campaigns: CampaignsRepository,
    private readonly registry: CampaignRegistry,
    @Inject(EnrichmentEnv) private readonly env: EnrichmentEnv,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.env.MESH_DEMO) return;
    const campaign = demoCampaign(this.env.MESH_DEMO_CART_WAIT_SECONDS);
    await this.campaigns.save(campaign);
    await this.registry.changed();
    this.logger.log(`demo campaign "${campaign.campaignId}" is ready`);
  }
}
