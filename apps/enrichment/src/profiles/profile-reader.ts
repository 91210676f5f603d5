import { Injectable } from '@nestjs/common';
import { type ProfileSnapshotDto } from '@mesh/contracts';
import { ProfileCache } from './profile-cache.js';
import { ProfilesRepository } from './profiles.repository.js';
import { type ProfileModel } from './profile-model.js';

export function snapshotOf(model: ProfileModel): ProfileSnapshotDto {
  return {
    profileId: model.profileId,
    traits: model.traits,
    computed: { ...model.computed, segments: model.segments },
    version: model.version,
  };
}

/** Reads a profile's snapshot from the hot cache, else from the database (and caches it). */
@Injectable()
export class ProfileReader {
  constructor(
    private readonly cache: ProfileCache,
    private readonly profiles: ProfilesRepository,
  ) {}

  async snapshot(profileId: string): Promise<ProfileSnapshotDto | undefined> {
    const cached = await this.cache.get(profileId);
    if (cached) return cached;
    const stored = await this.profiles.load(profileId);
    if (!stored) return undefined;
    const snapshot = snapshotOf(stored.model);
    await this.cache.put(snapshot);
    return snapshot;
  }
}
