import { Injectable } from '@nestjs/common';
import { deriveEnvelope, type EventType, type ProfileSnapshotDto, SUBJECTS } from '@mesh/contracts';
import { type EnvelopeOf, MessagePublisher, PermanentError } from '@mesh/messaging';
import { TriggerCampaignsUseCase } from '../campaigns/trigger-campaigns.usecase.js';
import { type ProfileChange, ProfilesRepository } from './profiles.repository.js';

type ResolvedEnvelope = EnvelopeOf<'identity.resolved.*'>;

/** What an event changes on its profile. Computed attributes (RFM, affinity, cart) grow here. */
export function changeOf(type: EventType, envelope: ResolvedEnvelope): ProfileChange {
  const data = envelope.data;
  const traits = 'traits' in data && data.traits ? { ...data.traits } : {};
  const contextTraits = (data.context?.traits ?? {}) as Record<string, unknown>;
  const computed: Record<string, unknown> = { last_seen_at: envelope.occurredAt };
  if (type === 'track' && 'event' in data)
    computed.last_event = { name: data.event, at: envelope.occurredAt };
  return { traits: { ...contextTraits, ...traits }, computed };
}

/**
 * Applies a resolved event to its profile, announces the new profile, and lets campaigns decide
 * whether the event triggers a send.
 */
@Injectable()
export class ApplyEventUseCase {
  constructor(
    private readonly profiles: ProfilesRepository,
    private readonly publisher: MessagePublisher,
    private readonly campaigns: TriggerCampaignsUseCase,
  ) {}

  async execute(type: EventType, envelope: ResolvedEnvelope): Promise<ProfileSnapshotDto> {
    if (!envelope.profileId)
      throw new PermanentError('a resolved event must carry a profile id', 'NO_PROFILE');
    const change = changeOf(type, envelope);
    const profile = await this.profiles.apply(envelope.profileId, envelope.id, change);
    await this.publisher.publish(
      SUBJECTS.enrichment.profileUpdated,
      deriveEnvelope(envelope, {
        stage: SUBJECTS.enrichment.profileUpdated,
        type: 'profile.updated',
        data: { profile, changed: [...Object.keys(change.traits), ...Object.keys(change.computed)] },
      }),
    );
    if (type === 'track' && 'event' in envelope.data) {
      await this.campaigns.execute(
        envelope,
        { event: envelope.data.event, properties: envelope.data.properties },
        profile,
      );
    }
    return profile;
  }
}
