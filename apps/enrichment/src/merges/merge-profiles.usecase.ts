import { Inject, Injectable } from '@nestjs/common';
import { type Envelope, type ProfilesMergedPayload } from '@mesh/contracts';
import { FollowMergeUseCase } from '../campaigns/follow-merge.usecase.js';
import { ProfileAnnouncer } from '../profiles/profile-announcer.js';
import { ProfileCache } from '../profiles/profile-cache.js';
import { PROFILE_SETTINGS, type ProfileSettings } from '../profiles/profile-settings.js';
import { ProfilesRepository } from '../profiles/profiles.repository.js';
import { UpdateProfileUseCase } from '../profiles/update-profile.usecase.js';
import { foldProfiles } from './fold-profiles.js';
import { MergesRepository } from './merges.repository.js';
import { openMerge } from './since-merges.js';

/**
 * `identity.merged`: folds the merged profiles into the survivor (after backing all of them up for a
 * split), moves their campaign waits to the survivor, then removes the merged ones, which leave their
 * segments.
 */
@Injectable()
export class MergeProfilesUseCase {
  constructor(
    private readonly profiles: ProfilesRepository,
    private readonly cache: ProfileCache,
    private readonly merges: MergesRepository,
    private readonly update: UpdateProfileUseCase,
    private readonly announcer: ProfileAnnouncer,
    private readonly follow: FollowMergeUseCase,
    @Inject(PROFILE_SETTINGS) private readonly settings: ProfileSettings,
  ) {}

  async execute(envelope: Envelope<ProfilesMergedPayload>): Promise<void> {
    const { mergeId, survivorId } = envelope.data;
    const mergedIds = envelope.data.mergedIds.filter((id) => id !== survivorId);
    const update = await this.update.change(survivorId, envelope.id, async (survivor) => {
      const merged = await Promise.all(mergedIds.map((id) => this.profiles.load(id)));
      const backup = await this.merges.keepFirst({
        mergeId,
        survivorId,
        mergedAt: envelope.occurredAt,
        ...(survivor.version > 0 ? { survivor: structuredClone(survivor) } : {}),
        merged: merged.filter((stored) => stored !== undefined).map((stored) => stored.model),
      });
      const folded = foldProfiles(survivor, backup.merged, this.settings);
      openMerge(folded, survivor.state.sinceMerges, mergeId, envelope.occurredAt);
      return folded;
    });
    await this.announcer.announce(envelope, update);
    // Pending campaign waits of the merged profiles move to the survivor (before they are removed).
    await this.follow.merged(mergedIds, survivorId);
    const backup = await this.merges.get(mergeId);
    for (const merged of backup?.merged ?? []) {
      await this.announcer.segmentsChanged(envelope, merged.profileId, [], merged.segments);
    }
    await this.profiles.remove(mergedIds);
    await this.cache.drop(mergedIds);
  }
}
