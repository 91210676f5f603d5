import { type DynamicModule, Module } from '@nestjs/common';
import { EnrichmentEnv } from '../config.js';
import { CampaignsRepository } from './campaigns.repository.js';
import { DemoCampaignSeeder } from './demo-campaign.seeder.js';
import { TriggerCampaignsUseCase } from './trigger-campaigns.usecase.js';

@Module({})
export class CampaignsModule {
  static forRoot(env: EnrichmentEnv): DynamicModule {
    return {
      module: CampaignsModule,
      global: true,
      providers: [
        { provide: EnrichmentEnv, useValue: env },
        CampaignsRepository,
        TriggerCampaignsUseCase,
        DemoCampaignSeeder,
      ],
      exports: [CampaignsRepository, TriggerCampaignsUseCase],
    };
  }
}
