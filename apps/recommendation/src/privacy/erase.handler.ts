import { Controller, Injectable, Module } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { deriveEnvelope, SUBJECTS } from '@mesh/contracts';
import { type EnvelopeOf, MessagePublisher, OnMessage } from '@mesh/messaging';
import { PropensityModule } from '../propensity/propensity.module.js';
import { PropensityRepository } from '../propensity/propensity.repository.js';
import { SignalStore } from '../signals/signal-store.js';

/**
 * Forgets a person: their history, purchases and feature rows go; aggregate co-occurrence and
 * popularity counts stay (they name no one). The receipt is `privacy.erase.done.recommendation`.
 */
@Injectable()
export class EraseProfileUseCase {
  constructor(
    private readonly signals: SignalStore,
    private readonly propensity: PropensityRepository,
    private readonly publisher: MessagePublisher,
  ) {}

  async execute(envelope: EnvelopeOf<'privacy.erase.requested'>): Promise<void> {
    const started = Date.now();
    const userIds = envelope.data.identifiers.filter((id) => id.type === 'user_id').map((id) => id.value);
    const profileIds = [
      ...new Set([
        ...(envelope.data.profileIds ?? []),
        ...(envelope.profileId ? [envelope.profileId] : []),
        ...(await this.signals.profilesOf(userIds)),
      ]),
    ];
    const removed: Record<string, number> = { historyKeys: 0, featureRows: 0, purchases: 0 };
    removed.userLinks = await this.signals.unlink(userIds);
    for (const profileId of profileIds) {
      removed.historyKeys! += await this.signals.forget(profileId);
      const rows = await this.propensity.forget(profileId);
      removed.featureRows! += rows.featureRows!;
      removed.purchases! += rows.purchases!;
    }
    const subject = SUBJECTS.privacy.eraseDone('recommendation');
    await this.publisher.publish(
      subject,
      deriveEnvelope(envelope, {
        stage: subject,
        type: 'privacy.erase.done',
        data: {
          requestId: envelope.data.requestId,
          service: 'recommendation',
          removed,
          durationMs: Date.now() - started,
        },
      }),
    );
  }
}

@Controller()
export class EraseRequestedHandler {
  constructor(private readonly erase: EraseProfileUseCase) {}

  @OnMessage('privacy.erase.requested')
  async handle(@Payload() envelope: EnvelopeOf<'privacy.erase.requested'>): Promise<void> {
    await this.erase.execute(envelope);
  }
}

@Module({
  imports: [PropensityModule],
  controllers: [EraseRequestedHandler],
  providers: [EraseProfileUseCase],
})
export class PrivacyModule {}
