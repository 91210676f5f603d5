import { Inject, Injectable, Logger } from '@nestjs/common';
import { type Envelope, type ProfileSplitPayload } from '@mesh/contracts';
import { CampaignTimers } from '../campaigns/campaign-timers.js';
import { ProfileAnnouncer } from '../profiles/profile-announcer.js';
import { emptyProfile, type ProfileModel } from '../profiles/profile-model.js';
import { PROFILE_SETTINGS, type ProfileSettings } from '../profiles/profile-settings.js';
import { UpdateProfileUseCase } from '../profiles/update-profile.usecase.js';
import { applyInput } from '../profiles/profile-input.js';
import { foldProfiles } from './fold-profiles.js';
import { type MergeBackup, MergesRepository } from './merges.repository.js';
import { closeMerge, REPLAY_KEPT } from './since-merges.js';

/**
 * `identity.split`: rebuilds the restored profiles from the merge's backup, and the survivor from its
 * own backup folded with the profiles that stay merged, then given again what it received since the
 * merge (recorded in its state while the merge is open), so its counts are those of its own events.
 */
@Injectable()
export class SplitProfileUseCase {
  private readonly logger = new Logger(SplitProfileUseCase.name);

  constructor(
    private readonly merges: MergesRepository,
    private readonly update: UpdateProfileUseCase,
    private readonly announcer: ProfileAnnouncer,
    private readonly timers: CampaignTimers,
    @Inject(PROFILE_SETTINGS) private readonly settings: ProfileSettings,
  ) {}

  async execute(envelope: Envelope<ProfileSplitPayload>): Promise<void> {
    const { mergeId, survivorId, restoredIds } = envelope.data;
    const backup = await this.merges.get(mergeId);
    if (!backup) {
      this.logger.warn(`split of merge ${mergeId}: this merge was never folded here; nothing to rebuild`);
      return;
    }
    // The restored profiles live again; campaign waits moved to the survivor at the merge stay with it
    // (the survivor is the profile that was waiting when the merge happened; no wait is sent twice).
    await this.timers.unmarkMerged(restoredIds);
    for (const restored of backup.merged.filter((model) => restoredIds.includes(model.profileId))) {
      const update = await this.update.change(restored.profileId, envelope.id, (current) =>
        current.version > 0 ? current : { ...structuredClone(restored), version: 0 },
      );
      await this.announcer.announce(envelope, update, true);
    }
    const staying = backup.merged.filter((model) => !restoredIds.includes(model.profileId));
    const survivor = await this.update.change(survivorId, envelope.id, (current) =>
      this.rebuildSurvivor(current, backup, staying),
    );
    await this.announcer.announce(envelope, survivor, true);
  }

  /**
   * The survivor as it was before the merge, folded with the profiles that stay merged, then given
   * again what it was given since (events and later merges, recorded in `sinceMerges`), so counts,
   * revenue, recency and scores are those of the events that stay with it.
   */
  private async rebuildSurvivor(
    current: ProfileModel,
    backup: MergeBackup,
    staying: ProfileModel[],
  ): Promise<ProfileModel> {
    const before = backup.survivor ?? emptyProfile(current.profileId);
    let rebuilt = foldProfiles(
      { ...structuredClone(before), version: current.version },
      staying,
      this.settings,
    );
    const since = current.state.sinceMerges;
    const open = since?.open.find((merge) => merge.mergeId === backup.mergeId);
    if (open && !open.complete)
      this.logger.warn(
        `split of merge ${backup.mergeId}: only the last ${REPLAY_KEPT} events since the merge are re-counted`,
      );
    rebuilt.state.sinceMerges = closeMerge(since, backup.mergeId);
    for (const entry of since?.replay ?? []) {
      if (!entry.merges.includes(backup.mergeId)) continue;
      if ('input' in entry) {
        applyInput(rebuilt, entry.input, this.settings, entry.thirdParty ?? {});
        continue;
      }
      const later = await this.merges.get(entry.fold);
      if (later) {
        const sinceMerges = rebuilt.state.sinceMerges;
        rebuilt = foldProfiles(rebuilt, later.merged, this.settings);
        if (sinceMerges) rebuilt.state.sinceMerges = sinceMerges;
      }
    }
    // Without a record (a merge folded before records were kept), traits set after the merge stay.
    for (const [name, at] of Object.entries(current.traitTimes)) {
      if (Date.parse(at) <= Date.parse(backup.mergedAt)) continue;
      if (rebuilt.traitTimes[name] !== undefined && Date.parse(rebuilt.traitTimes[name]) >= Date.parse(at))
        continue;
      rebuilt.traits[name] = current.traits[name];
      rebuilt.traitTimes[name] = at;
    }
    return rebuilt;
  }
}
