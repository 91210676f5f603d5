import { type DynamicModule, Module } from '@nestjs/common';
import { ApplyEmailRulesUseCase } from './apply-email-rules.usecase.js';
import { type ExtractionOptions } from './identifiers.js';
import { IngestedEventHandler } from './ingested-event.handler.js';
import { ProfileMerger } from './profile-merger.js';
import {
  EXTRACTION_OPTIONS,
  IDENTITY_RULES,
  type IdentityRules,
  ResolveEventUseCase,
} from './resolve-event.usecase.js';

@Module({})
export class ResolutionModule {
  static forRoot(extraction: ExtractionOptions, rules: IdentityRules): DynamicModule {
    return {
      module: ResolutionModule,
      controllers: [IngestedEventHandler],
      providers: [
        ResolveEventUseCase,
        ProfileMerger,
        ApplyEmailRulesUseCase,
        { provide: EXTRACTION_OPTIONS, useValue: extraction },
        { provide: IDENTITY_RULES, useValue: rules },
      ],
    };
  }
}
