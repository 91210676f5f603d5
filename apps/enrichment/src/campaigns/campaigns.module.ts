import { Module } from '@nestjs/common';
import { SegmentsModule } from '../segments/segments.module.js';
import { BroadcastsRepository } from './broadcasts.repository.js';
import { CampaignEntriesRepository } from './campaign-entries.repository.js';
import { RunBroadcastUseCase } from './run-broadcast.usecase.js';
import { CampaignRegistry } from './campaign-registry.js';
import { CampaignTimers } from './campaign-timers.js';
import { CampaignsController } from './campaigns.controller.js';
import { CampaignsRepository } from './campaigns.repository.js';
import { DemoCampaignSeeder } from './demo-campaign.seeder.js';
import { DueTimersWorker } from './due-timers.worker.js';
import { FollowMergeUseCase } from './follow-merge.usecase.js';
import { FireDueTimerUseCase } from './fire-due-timer.usecase.js';
import { SendIntentPublisher } from './send-intent.publisher.js';
import { TriggerCampaignsUseCase } from './trigger-campaigns.usecase.js';

@Module({
  imports: [SegmentsModule],
  controllers: [CampaignsController],
  providers: [
    CampaignsRepository,
    CampaignRegistry,
    CampaignEntriesRepository,
    CampaignTimers,
    SendIntentPublisher,
    TriggerCampaignsUseCase,
    FireDueTimerUseCase,
    FollowMergeUseCase,
    DueTimersWorker,
    DemoCampaignSeeder,
    BroadcastsRepository,
    RunBroadcastUseCase,
  ],
  exports: [
    FollowMergeUseCase,
    TriggerCampaignsUseCase,
    CampaignTimers,
    CampaignEntriesRepository,
    CampaignRegistry,
    SendIntentPublisher,
  ],
})
export class CampaignsModule {}
