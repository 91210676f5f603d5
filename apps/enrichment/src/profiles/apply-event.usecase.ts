import { Injectable } from '@nestjs/common';
import { deriveEnvelope, type Envelope, SUBJECTS, type TriggerDto } from '@mesh/contracts';
import { MessagePublisher, PermanentError } from '@mesh/messaging';
import { TriggerCampaignsUseCase } from '../campaigns/trigger-campaigns.usecase.js';
import { type ProfileInput } from './profile-input.js';
import { type ProfileUpdate, UpdateProfileUseCase } from './update-profile.usecase.js';

/**
 * Applies one message to its profile, announces what changed (profile, segments), and lets campaigns
 * decide what a track event starts or ends. Every output id derives from the input's, so a
 * redelivered input repeats the same messages and the stream drops them.
 */
@Injectable()
export class ApplyEventUseCase {
  constructor(
    private readonly update: UpdateProfileUseCase,
    private readonly publisher: MessagePublisher,
    private readonly campaigns: TriggerCampaignsUseCase,
  ) {}

  async execute(envelope: Envelope, input: ProfileInput): Promise<ProfileUpdate> {
    if (!envelope.profileId) throw new PermanentError('the message must carry a profile id', 'NO_PROFILE');
    const update = await this.update.execute(envelope.profileId, envelope.id, input);
    await this.publisher.publish(
      SUBJECTS.enrichment.profileUpdated,
      deriveEnvelope(envelope, {
        stage: SUBJECTS.enrichment.profileUpdated,
        type: 'profile.updated',
        data: { profile: update.profile, changed: update.changed },
      }),
    );
    const memberships = [
      ...update.entered.map((segmentId) => ({ segmentId, member: true })),
      ...update.exited.map((segmentId) => ({ segmentId, member: false })),
    ];
    await Promise.all(
      memberships.map((data) =>
        this.publisher.publish(
          SUBJECTS.enrichment.segmentChanged,
          deriveEnvelope(envelope, {
            stage: `${SUBJECTS.enrichment.segmentChanged}:${data.segmentId}`,
            type: 'segment.changed',
            data,
          }),
        ),
      ),
    );
    if (input.kind === 'track') {
      const trigger: TriggerDto = { event: input.event, properties: input.properties };
      await this.campaigns.execute({
        envelope,
        trigger,
        profile: update.profile,
        eventDays: update.eventDays,
      });
    }
    return update;
  }
}
