import { Inject, Injectable } from '@nestjs/common';
import { type ProfileSnapshotDto } from '@mesh/contracts';
import { Clock } from '../shared/clock.js';
import { recordSinceMerges } from '../merges/since-merges.js';
import { SegmentRegistry } from '../segments/segment-registry.js';
import { nextMembershipChange } from '../segments/segment-review.js';
import { SegmentReviews } from '../segments/segment-reviews.js';
import { computeAttributes } from './computed-attributes.js';
import { applyInput, type ProfileInput } from './profile-input.js';
import { emptyProfile, type ProfileModel } from './profile-model.js';
import { snapshotOf } from './profile-reader.js';
import { PROFILE_SETTINGS, type ProfileSettings } from './profile-settings.js';
import { ProfilesRepository } from './profiles.repository.js';
import { ProfileCache } from './profile-cache.js';

export interface ProfileUpdate {
  profile: ProfileSnapshotDto;
  /** Names of the traits and computed attributes that changed. */
  changed: string[];
  entered: string[];
  exited: string[];
  /** The message had been applied before (a redelivery): nothing was written. */
  replayed: boolean;
  /** For rules over event counts (campaign conditions). */
  eventDays: Record<string, Record<string, number>>;
}

/** An update whose snapshot may still be on its way to the hot cache: await `cached` before acking. */
export interface PendingUpdate extends ProfileUpdate {
  cached: Promise<void>;
}

/** Optimistic writes lose only to another replica writing the same profile at the same moment. */
const ATTEMPTS = 5;

function changedNames(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => JSON.stringify(before[name]) !== JSON.stringify(after[name]));
}

/** Applies one message to its profile once: traits, computed attributes, segment membership. */
@Injectable()
export class UpdateProfileUseCase {
  constructor(
    private readonly profiles: ProfilesRepository,
    private readonly cache: ProfileCache,
    private readonly segments: SegmentRegistry,
    private readonly reviews: SegmentReviews,
    private readonly clock: Clock,
    @Inject(PROFILE_SETTINGS) private readonly settings: ProfileSettings,
  ) {}

  /**
   * Applies one event's input to its profile. The snapshot is written to the hot cache meanwhile:
   * await `cached` (with the announcement) before acking.
   */
  execute(
    profileId: string,
    messageId: string,
    input: ProfileInput,
    thirdParty: Record<string, Record<string, unknown>> = {},
  ): Promise<PendingUpdate> {
    return this.changeCaching(profileId, messageId, (model) => {
      applyInput(model, input, this.settings, thirdParty);
      recordSinceMerges(model, { input, ...(Object.keys(thirdParty).length > 0 ? { thirdParty } : {}) });
      return model;
    });
  }

  /**
   * Changes a profile once per message: `change` gets the stored profile (or an empty one) and returns
   * the new one, whose computed attributes and segments are then derived and saved.
   */
  async change(
    profileId: string,
    messageId: string,
    change: (model: ProfileModel) => ProfileModel | Promise<ProfileModel>,
  ): Promise<ProfileUpdate> {
    const { cached, ...update } = await this.changeCaching(profileId, messageId, change);
    await cached;
    return update;
  }

  private async changeCaching(
    profileId: string,
    messageId: string,
    change: (model: ProfileModel) => ProfileModel | Promise<ProfileModel>,
  ): Promise<PendingUpdate> {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const stored =
        attempt === 1 ? this.profiles.loadForWrite(profileId) : await this.profiles.load(profileId);
      if (stored?.applied(messageId)) {
        // The review may not have been scheduled if the process stopped right after the write.
        if (stored.model.state.reviewAt !== undefined)
          await this.reviews.schedule(profileId, stored.model.state.reviewAt);
        // Found by message id: other messages may have changed the profile since.
        const last = stored.changeOf(messageId);
        return {
          profile: snapshotOf(stored.model),
          changed: last?.changed ?? [],
          entered: last?.entered ?? [],
          exited: last?.exited ?? [],
          replayed: true,
          eventDays: stored.model.state.eventDays,
          cached: Promise.resolve(),
        };
      }
      const current = stored?.model ?? emptyProfile(profileId);
      const before = {
        traits: { ...current.traits },
        computed: current.computed,
        segments: current.segments,
      };
      const expectedVersion = current.version;

      const model = await change(current);
      const now = this.clock.now();
      model.computed = computeAttributes(model.state, now, this.settings) as Record<string, unknown>;
      model.segments = this.segments.membership({
        traits: model.traits,
        computed: model.computed,
        eventDays: model.state.eventDays,
        now,
      });
      const reviewBefore = model.state.reviewAt;
      const reviewAt = nextMembershipChange(model, this.segments.current(), now, this.settings);
      if (reviewAt === undefined) delete model.state.reviewAt;
      else model.state.reviewAt = reviewAt;
      model.version = expectedVersion + 1;
      const changed = [
        ...changedNames(before.traits, model.traits),
        ...changedNames(before.computed, model.computed),
      ];
      const entered = model.segments.filter((id) => !before.segments.includes(id));
      const exited = before.segments.filter((id) => !model.segments.includes(id));
      const lastChange = { messageId, changed, entered, exited };
      const saved = await this.profiles.save(
        model,
        expectedVersion,
        lastChange,
        stored?.appliedIds ?? [],
        stored?.changes ?? [],
      );
      if (!saved) continue;
      if (reviewAt !== undefined && reviewAt !== reviewBefore)
        await this.reviews.schedule(profileId, reviewAt);

      const profile = snapshotOf(model);
      const cached = this.cache.put(profile);
      // Awaited by the caller; until then a failure must not count as unhandled.
      cached.catch(() => undefined);
      return {
        profile,
        changed,
        entered,
        exited,
        replayed: false,
        eventDays: model.state.eventDays,
        cached,
      };
    }
    throw new Error(`profile ${profileId} kept changing under message ${messageId}; retrying later`);
  }
}
