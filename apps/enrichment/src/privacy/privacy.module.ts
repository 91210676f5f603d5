import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module.js';
import { MergesModule } from '../merges/merges.module.js';
import { SegmentsModule } from '../segments/segments.module.js';
import { EraseProfilesUseCase } from './erase-profiles.usecase.js';
import { EraseRequestedHandler } from './erase-requested.handler.js';

@Module({
  imports: [CampaignsModule, MergesModule, SegmentsModule],
  controllers: [EraseRequestedHandler],
  providers: [EraseProfilesUseCase],
})
export class PrivacyModule {}
