import { type DynamicModule, Module } from '@nestjs/common';
import { IDENTITY_RULES, type IdentityRules, ProfileMerger } from '../resolution/profile-merger.js';
import { DetectDuplicatesUseCase } from './detect-duplicates.usecase.js';
import { DuplicatesController } from './duplicates.controller.js';
import { DuplicatesRepository } from './duplicates.repository.js';
import { FUZZY_SETTINGS, type FuzzySettings } from './fuzzy-settings.js';
import { ProfileDescribedHandler } from './profile-described.handler.js';
import { ReviewCandidateUseCase } from './review-candidate.usecase.js';

@Module({})
export class DuplicatesModule {
  static forRoot(settings: FuzzySettings, rules: IdentityRules): DynamicModule {
    return {
      module: DuplicatesModule,
      controllers: [ProfileDescribedHandler, DuplicatesController],
      providers: [
        ProfileMerger,
        DuplicatesRepository,
        DetectDuplicatesUseCase,
        ReviewCandidateUseCase,
        { provide: FUZZY_SETTINGS, useValue: settings },
        { provide: IDENTITY_RULES, useValue: rules },
      ],
    };
  }
}
