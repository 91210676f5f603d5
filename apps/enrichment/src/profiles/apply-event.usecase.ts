import { Injectable } from '@nestjs/common';
import { type Envelope, type TriggerDto } from '@mesh/contracts';
import { PermanentError } from '@mesh/messaging';
import { TriggerCampaignsUseCase } from '../campaigns/trigger-campaigns.usecase.js';
import { ThirdPartyEnricher } from '../third-party/third-party-enricher.js';
import { ProfileAnnouncer } from './profile-announcer.js';
import { type ProfileInput } from './profile-input.js';
import { type ProfileUpdate, UpdateProfileUseCase } from './update-profile.usecase.js';

/**
 * Applies one message to its profile, announces what changed (profile, segments), and lets campaigns
 * decide what a track event starts or ends.
 */
@Injectable()
export class ApplyEventUseCase {
  constructor(
    private readonly update: UpdateProfileUseCase,
    private readonly announcer: ProfileAnnouncer,
    private readonly campaigns: TriggerCampaignsUseCase,
    private readonly thirdParty: ThirdPartyEnricher,
  ) {}

  async execute(envelope: Envelope, input: ProfileInput): Promise<ProfileUpdate> {
    if (!envelope.profileId) throw new PermanentError('the message must carry a profile id', 'NO_PROFILE');
    const traits = 'traits' in input ? input.traits : {};
    const answers = Object.keys(traits).length > 0 ? await this.thirdParty.enrich(traits) : {};
    const pending = await this.update.execute(envelope.profileId, envelope.id, input, answers);
    // All follow the durable write and none needs another: side by side, one wait instead of three.
    const { cached, ...update } = pending;
    await Promise.all([
      cached,
      this.announcer.announce(envelope, update),
      input.kind === 'track'
        ? this.campaigns.execute({
            envelope,
            trigger: { event: input.event, properties: input.properties } satisfies TriggerDto,
            profile: update.profile,
            eventDays: update.eventDays,
          })
        : undefined,
    ]);
    return update;
  }
}
