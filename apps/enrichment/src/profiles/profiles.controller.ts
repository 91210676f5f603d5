import { Controller, Get, NotFoundException, Param, UseGuards } from '@nestjs/common';
import { AdminTokenGuard } from '@mesh/runtime';
import { ProfileReader } from './profile-reader.js';

export interface ProfileView {
  profileId: string;
  traits: Record<string, unknown>;
  computed: Record<string, unknown>;
  segments: string[];
  version: number;
}

@Controller('api/profiles')
@UseGuards(AdminTokenGuard)
export class ProfilesController {
  constructor(private readonly profiles: ProfileReader) {}

  /** A profile's traits, computed attributes and segments (from the hot cache when it has them). */
  @Get(':profileId')
  async get(@Param('profileId') profileId: string): Promise<ProfileView> {
    const snapshot = await this.profiles.snapshot(profileId);
    if (!snapshot)
      throw new NotFoundException({ error: 'profile_not_found', message: `no profile ${profileId}` });
    const { segments, ...computed } = snapshot.computed;
    return {
      profileId,
      traits: snapshot.traits,
      computed,
      segments: (segments as string[] | undefined) ?? [],
      version: snapshot.version,
    };
  }
}
