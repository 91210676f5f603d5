import { Inject, Injectable, Logger } from '@nestjs/common';
import { deterministicId, originEnvelope, SUBJECTS } from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { ProfileCache } from '../profiles/profile-cache.js';
import { snapshotOf } from '../profiles/profile-reader.js';
import { PROFILE_SETTINGS, type ProfileSettings } from '../profiles/profile-settings.js';
import { ProfilesRepository } from '../profiles/profiles.repository.js';
import { Clock } from '../shared/clock.js';
import { type Segment } from './segment.js';
import { membershipAt, nextMembershipChange } from './segment-review.js';
import { SegmentReviews } from './segment-reviews.js';

const PAGE = 200;

/**
 * Evaluates a new (or changed) segment over every existing profile, page by page, and announces each
 * profile that enters or leaves it. Profiles changed meanwhile are evaluated by their own event.
 */
@Injectable()
export class BackfillSegmentUseCase {
  private readonly logger = new Logger(BackfillSegmentUseCase.name);

  constructor(
    private readonly profiles: ProfilesRepository,
    private readonly cache: ProfileCache,
    private readonly publisher: MessagePublisher,
    private readonly clock: Clock,
    private readonly reviews: SegmentReviews,
    @Inject(PROFILE_SETTINGS) private readonly settings: ProfileSettings,
  ) {}

  async execute(segment: Segment): Promise<{ evaluated: number; changed: number }> {
    let after: string | undefined;
    let evaluated = 0;
    let changed = 0;
    for (;;) {
      const page = await this.profiles.page(after, PAGE);
      if (page.length === 0) break;
      after = page[page.length - 1]!.profileId;
      const now = this.clock.now();
      for (const listed of page) {
        // A handler may have written it since the page was read: decide on the newest version.
        const model = (await this.profiles.load(listed.profileId))?.model;
        if (!model) continue;
        evaluated += 1;
        // As of now: attributes like recency moved on since the profile's last event.
        const member = membershipAt(model, [segment], now, this.settings).length > 0;
        const reviewAt = nextMembershipChange(model, [segment], now, this.settings);
        if (reviewAt !== undefined) await this.reviews.schedule(model.profileId, reviewAt);
        if (member === model.segments.includes(segment.segmentId)) continue;
        const segments = member
          ? [...model.segments, segment.segmentId].sort()
          : model.segments.filter((id) => id !== segment.segmentId);
        if (!(await this.profiles.saveSegments(model.profileId, model.version, segments))) continue;
        changed += 1;
        const version = model.version + 1;
        await this.cache.put(snapshotOf({ ...model, segments, version }));
        await this.publisher.publish(
          SUBJECTS.enrichment.segmentChanged,
          originEnvelope({
            id: deterministicId(
              SUBJECTS.enrichment.segmentChanged,
              segment.segmentId,
              model.profileId,
              String(version),
            ),
            type: 'segment.changed',
            source: 'enrichment',
            occurredAt: new Date(now).toISOString(),
            profileId: model.profileId,
            data: { segmentId: segment.segmentId, member },
          }),
        );
      }
    }
    this.logger.log(`segment ${segment.segmentId} back-filled: ${changed} of ${evaluated} profiles changed`);
    return { evaluated, changed };
  }
}
