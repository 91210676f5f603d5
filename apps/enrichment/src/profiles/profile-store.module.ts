import { type DynamicModule, Module } from '@nestjs/common';
import { EnrichmentEnv } from '../config.js';
import { ChangeNotices } from '@mesh/storage';
import { Clock } from '../shared/clock.js';
import { ProfileCache } from './profile-cache.js';
import { ProfileReader } from './profile-reader.js';
import { DEFAULT_PROFILE_SETTINGS, PROFILE_SETTINGS, type ProfileSettings } from './profile-settings.js';
import { ProfilesRepository } from './profiles.repository.js';

/** Profile storage and the app's configuration, shared by every capability. */
@Module({})
export class ProfileStoreModule {
  static forRoot(env: EnrichmentEnv): DynamicModule {
    const settings: ProfileSettings = {
      ...DEFAULT_PROFILE_SETTINGS,
      rfmWindowDays: env.RFM_WINDOW_DAYS,
      rfmWindows: [...new Set([...env.RFM_WINDOWS_DAYS, env.RFM_WINDOW_DAYS])].sort((a, b) => a - b),
      engagementHalfLifeDays: env.ENGAGEMENT_HALF_LIFE_DAYS,
      affinityHalfLifeDays: env.AFFINITY_HALF_LIFE_DAYS,
    };
    return {
      module: ProfileStoreModule,
      global: true,
      providers: [
        { provide: EnrichmentEnv, useValue: env },
        { provide: PROFILE_SETTINGS, useValue: settings },
        Clock,
        ChangeNotices,
        ProfilesRepository,
        ProfileCache,
        ProfileReader,
      ],
      exports: [
        EnrichmentEnv,
        PROFILE_SETTINGS,
        Clock,
        ChangeNotices,
        ProfilesRepository,
        ProfileCache,
        ProfileReader,
      ],
    };
  }
}
