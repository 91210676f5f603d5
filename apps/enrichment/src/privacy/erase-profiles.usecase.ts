import { Injectable } from '@nestjs/common';
import { deriveEnvelope, type Envelope, type EraseRequestedPayload, SUBJECTS } from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { CampaignEntriesRepository } from '../campaigns/campaign-entries.repository.js';
import { CampaignTimers } from '../campaigns/campaign-timers.js';
import { MergesRepository } from '../merges/merges.repository.js';
import { ProfileCache } from '../profiles/profile-cache.js';
import { ProfilesRepository } from '../profiles/profiles.repository.js';
import { SegmentReviews } from '../segments/segment-reviews.js';

/**
 * `privacy.erase.requested`: removes the people's profiles (with their segment memberships), campaign
 * entries, waiting timers and segment reviews, merge backups and cached snapshots, then confirms with a receipt.
 */
@Injectable()
export class EraseProfilesUseCase {
  constructor(
    private readonly profiles: ProfilesRepository,
    private readonly cache: ProfileCache,
    private readonly entries: CampaignEntriesRepository,
    private readonly timers: CampaignTimers,
    private readonly reviews: SegmentReviews,
    private readonly merges: MergesRepository,
    private readonly publisher: MessagePublisher,
  ) {}

  async execute(envelope: Envelope<EraseRequestedPayload>): Promise<void> {
    const started = performance.now();
    const { requestId, identifiers, profileIds = [] } = envelope.data;
    const emails = identifiers
      .filter((identifier) => identifier.type === 'email')
      .map((identifier) => identifier.value);
    const ids = [...new Set([...profileIds, ...(await this.profiles.idsWithEmail(emails))])];
    const removed = {
      timers: await this.timers.removeProfiles(ids),
      segment_reviews: await this.reviews.removeProfiles(ids),
      campaign_entries: await this.entries.removeProfiles(ids),
      merge_backups: await this.merges.removeProfiles(ids),
      cached_snapshots: await this.cache.drop(ids),
      profiles: await this.profiles.remove(ids),
    };
    await this.publisher.publish(
      SUBJECTS.privacy.eraseDone('enrichment'),
      deriveEnvelope(envelope, {
        stage: SUBJECTS.privacy.eraseDone('enrichment'),
        type: 'privacy.erase.done',
        data: {
          requestId,
          service: 'enrichment',
          removed,
          durationMs: Math.round(performance.now() - started),
        },
      }),
    );
  }
}
