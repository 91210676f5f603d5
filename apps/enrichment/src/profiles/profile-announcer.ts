import { Injectable } from '@nestjs/common';
import { deriveEnvelope, type Envelope, SUBJECTS } from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { type ProfileUpdate } from './update-profile.usecase.js';

/**
 * Announces a profile change: `enrichment.profile.updated` with the changed names, and
 * `enrichment.segment.changed` per segment entered or left. Ids derive from the input message (and
 * the profile, when one input changes several), so a redelivered input repeats the same ids.
 */
@Injectable()
export class ProfileAnnouncer {
  constructor(private readonly publisher: MessagePublisher) {}

  async announce(input: Envelope, update: ProfileUpdate, perProfile = false): Promise<void> {
    const profileId = update.profile.profileId;
    const suffix = perProfile ? `:${profileId}` : '';
    await this.publisher.publish(
      SUBJECTS.enrichment.profileUpdated,
      deriveEnvelope(input, {
        stage: `${SUBJECTS.enrichment.profileUpdated}${suffix}`,
        type: 'profile.updated',
        profileId,
        data: { profile: update.profile, changed: update.changed },
      }),
    );
    await this.segmentsChanged(input, profileId, update.entered, update.exited);
  }

  async segmentsChanged(
    input: Envelope,
    profileId: string,
    entered: string[],
    exited: string[],
  ): Promise<void> {
    const memberships = [
      ...entered.map((segmentId) => ({ segmentId, member: true })),
      ...exited.map((segmentId) => ({ segmentId, member: false })),
    ];
    await Promise.all(
      memberships.map((data) =>
        this.publisher.publish(
          SUBJECTS.enrichment.segmentChanged,
          deriveEnvelope(input, {
            stage: `${SUBJECTS.enrichment.segmentChanged}:${data.segmentId}:${profileId}`,
            type: 'segment.changed',
            profileId,
            data,
          }),
        ),
      ),
    );
  }
}
