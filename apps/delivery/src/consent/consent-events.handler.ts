import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { ConsentRepository } from '../decisions/consent.repository.js';
import { emailConsentOf } from './consent-statement.js';

const byProfile = (envelope: { profileId?: string }) => envelope.profileId;

/** Keeps delivery's own view of email consent current from consent, identify and profile events. */
@Controller()
export class ConsentEventsHandler {
  constructor(private readonly consents: ConsentRepository) {}

  @OnMessage('identity.resolved.consent', { orderBy: byProfile })
  async consent(@Payload() envelope: EnvelopeOf<'identity.resolved.consent'>): Promise<void> {
    await this.record(envelope.profileId, emailConsentOf(envelope.data.consent));
  }

  @OnMessage('identity.resolved.identify', { orderBy: byProfile })
  async identify(@Payload() envelope: EnvelopeOf<'identity.resolved.identify'>): Promise<void> {
    await this.record(envelope.profileId, emailConsentOf(envelope.data.traits.consent));
  }

  @OnMessage('enrichment.profile.updated', { orderBy: byProfile })
  async profileUpdated(@Payload() envelope: EnvelopeOf<'enrichment.profile.updated'>): Promise<void> {
    const computed = envelope.data.profile.computed as { consent?: { email?: unknown } };
    await this.record(envelope.data.profile.profileId, emailConsentOf(computed.consent?.email, false));
  }

  private async record(profileId: string | undefined, statement: ReturnType<typeof emailConsentOf>) {
    if (profileId && statement) await this.consents.record(profileId, statement);
  }
}
