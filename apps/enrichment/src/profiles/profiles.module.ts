import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module.js';
import { ReviewSegmentsUseCase } from '../segments/review-segments.usecase.js';
import { SegmentReviewsWorker } from '../segments/segment-reviews.worker.js';
import { SegmentsModule } from '../segments/segments.module.js';
import { EmailDomainProvider } from '../third-party/email-domain.provider.js';
import { ENRICHMENT_PROVIDERS } from '../third-party/enrichment-provider.js';
import { ThirdPartyEnricher } from '../third-party/third-party-enricher.js';
import { ApplyEventUseCase } from './apply-event.usecase.js';
import { ProfileAnnouncer } from './profile-announcer.js';
import { DeliveryEventHandler } from './delivery-event.handler.js';
import { ProfilesController } from './profiles.controller.js';
import { ResolvedEventHandler } from './resolved-event.handler.js';
import { UpdateProfileUseCase } from './update-profile.usecase.js';

@Module({
  imports: [SegmentsModule, CampaignsModule],
  controllers: [ResolvedEventHandler, DeliveryEventHandler, ProfilesController],
  providers: [
    UpdateProfileUseCase,
    ApplyEventUseCase,
    ProfileAnnouncer,
    // Segment reviews change profiles, so they live where profile changes are made.
    ReviewSegmentsUseCase,
    SegmentReviewsWorker,
    // More providers (a Clearbit client…) join this list; each is cached and rate-limited alike.
    { provide: ENRICHMENT_PROVIDERS, useValue: [new EmailDomainProvider()] },
    ThirdPartyEnricher,
  ],
  exports: [UpdateProfileUseCase, ProfileAnnouncer],
})
export class ProfilesModule {}
