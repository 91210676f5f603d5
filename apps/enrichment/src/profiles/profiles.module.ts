import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module.js';
import { SegmentsModule } from '../segments/segments.module.js';
import { ApplyEventUseCase } from './apply-event.usecase.js';
import { ProfileAnnouncer } from './profile-announcer.js';
import { DeliveryEventHandler } from './delivery-event.handler.js';
import { ProfilesController } from './profiles.controller.js';
import { ResolvedEventHandler } from './resolved-event.handler.js';
import { UpdateProfileUseCase } from './update-profile.usecase.js';

@Module({
  imports: [SegmentsModule, CampaignsModule],
  controllers: [ResolvedEventHandler, DeliveryEventHandler, ProfilesController],
  providers: [UpdateProfileUseCase, ApplyEventUseCase, ProfileAnnouncer],
  exports: [UpdateProfileUseCase, ProfileAnnouncer],
})
export class ProfilesModule {}
