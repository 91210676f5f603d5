import { Inject, Injectable } from '@nestjs/common';
import { deterministicId, type Envelope, originEnvelope } from '@mesh/contracts';
import { ProfileAnnouncer } from '../profiles/profile-announcer.js';
import { PROFILE_SETTINGS, type ProfileSettings } from '../profiles/profile-settings.js';
import { ProfilesRepository } from '../profiles/profiles.repository.js';
import { UpdateProfileUseCase } from '../profiles/update-profile.usecase.js';
import { Clock } from '../shared/clock.js';
import { SegmentRegistry } from './segment-registry.js';
import { membershipAt, nextMembershipChange } from './segment-review.js';
import { type DueReview, SegmentReviews } from './segment-reviews.js';

/** The input a review's announcements derive from: the same for every attempt at the same review. */
export function reviewEnvelope(review: DueReview): Envelope<Record<string, never>> {
  const at = new Date(review.dueAt).toISOString();
  return originEnvelope({
    id: deterministicId('enrichment.segment-review', review.profileId, String(review.dueAt)),
    type: 'segment.review',
    source: 'enrichment',
    occurredAt: at,
    receivedAt: at,
    profileId: review.profileId,
    data: {},
  });
}

/**
 * A profile's membership was due to change with time alone: re-evaluates it as of now, saves and
 * announces (`enrichment.segment.changed`, `enrichment.profile.updated`) if it did change, and
 * schedules the next review. Applied once per review (its message id is in the profile's applied
 * list), so a review retried after a crash announces the same change under the same ids.
 */
@Injectable()
export class ReviewSegmentsUseCase {
  constructor(
    private readonly profiles: ProfilesRepository,
    private readonly registry: SegmentRegistry,
    private readonly reviews: SegmentReviews,
    private readonly update: UpdateProfileUseCase,
    private readonly announcer: ProfileAnnouncer,
    private readonly clock: Clock,
    @Inject(PROFILE_SETTINGS) private readonly settings: ProfileSettings,
  ) {}

  async execute(review: DueReview): Promise<'changed' | 'unchanged' | 'gone'> {
    const stored = await this.profiles.load(review.profileId);
    if (!stored) return 'gone';
    const envelope = reviewEnvelope(review);
    const now = this.clock.now();
    const segments = this.registry.current();
    const members = membershipAt(stored.model, segments, now, this.settings);
    if (!stored.applied(envelope.id) && members.join('\n') === stored.model.segments.join('\n')) {
      const next = nextMembershipChange(stored.model, segments, now, this.settings);
      if (next !== undefined) await this.reviews.schedule(review.profileId, next);
      return 'unchanged';
    }
    const update = await this.update.change(review.profileId, envelope.id, (model) => model);
    await this.announcer.announce(envelope, update);
    return 'changed';
  }
}
