import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module.js';
import { ProfilesModule } from '../profiles/profiles.module.js';
import { IdentityChangesHandler } from './identity-changes.handler.js';
import { MergeProfilesUseCase } from './merge-profiles.usecase.js';
import { MergesRepository } from './merges.repository.js';
import { SplitProfileUseCase } from './split-profile.usecase.js';

@Module({
  imports: [ProfilesModule, CampaignsModule],
  controllers: [IdentityChangesHandler],
  providers: [MergesRepository, MergeProfilesUseCase, SplitProfileUseCase],
  exports: [MergesRepository],
})
export class MergesModule {}
