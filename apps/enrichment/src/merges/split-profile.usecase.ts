import { Inject, Injectable, Logger } from '@nestjs/common';
import { type Envelope, type ProfileSplitPayload } from '@mesh/contracts';
import { ProfileAnnouncer } from '../profiles/profile-announcer.js';
import { emptyProfile, type ProfileModel } from '../profiles/profile-model.js';
import { PROFILE_SETTINGS, type ProfileSettings } from '../profiles/profile-settings.js';
import { UpdateProfileUseCase } from '../profiles/update-profile.usecase.js';
import { foldProfiles } from './fold-profiles.js';
import { MergesRepository } from './merges.repository.js';

/**
 * `identity.split`: rebuilds the restored profiles from the merge's backup, and the survivor from its
 * own backup folded with the profiles that stay merged. Traits the survivor received after the merge
 * are kept; its events after the merge are not re-counted (their effects cannot be told apart).
 */
@Injectable()
export class SplitProfileUseCase {
  private readonly logger = new Logger(SplitProfileUseCase.name);

  constructor(
    private readonly merges: MergesRepository,
    private readonly update: UpdateProfileUseCase,
    private readonly announcer: ProfileAnnouncer,
    @Inject(PROFILE_SETTINGS) private readonly settings: ProfileSettings,
  ) {}

  async execute(envelope: Envelope<ProfileSplitPayload>): Promise<void> {
    const { mergeId, survivorId, restoredIds } = envelope.data;
    const backup = await this.merges.get(mergeId);
    if (!backup) {
      this.logger.warn(`split of merge ${mergeId}: this merge was never folded here; nothing to rebuild`);
      return;
    }
    for (const restored of backup.merged.filter((model) => restoredIds.includes(model.profileId))) {
      const update = await this.update.change(restored.profileId, envelope.id, (current) =>
        current.version > 0 ? current : { ...structuredClone(restored), version: 0 },
      );
      await this.announcer.announce(envelope, update, true);
    }
    const staying = backup.merged.filter((model) => !restoredIds.includes(model.profileId));
    const survivor = await this.update.change(survivorId, envelope.id, (current) =>
      this.rebuildSurvivor(current, backup.survivor ?? emptyProfile(survivorId), staying, backup.mergedAt),
    );
    await this.announcer.announce(envelope, survivor, true);
  }

  private rebuildSurvivor(
    current: ProfileModel,
    before: ProfileModel,
    staying: ProfileModel[],
    mergedAt: string,
  ): ProfileModel {
    const rebuilt = foldProfiles(
      { ...structuredClone(before), version: current.version },
      staying,
      this.settings,
    );
    for (const [name, at] of Object.entries(current.traitTimes)) {
      if (Date.parse(at) <= Date.parse(mergedAt)) continue;
      rebuilt.traits[name] = current.traits[name];
      rebuilt.traitTimes[name] = at;
    }
    return rebuilt;
  }
}
