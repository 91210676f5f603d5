import { Injectable } from '@nestjs/common';
import { deriveEnvelope, SUBJECTS } from '@mesh/contracts';
import { type EnvelopeOf, MessagePublisher } from '@mesh/messaging';
import { PreviewSamplesRepository } from '../preview/preview-samples.repository.js';

/**
 * Renderer keeps no personal data but preview samples: an erasure removes those of the profile (by
 * profile id or email identifier) and confirms with `privacy.erase.done.renderer`.
 */
@Injectable()
export class EraseSamplesUseCase {
  constructor(
    private readonly samples: PreviewSamplesRepository,
    private readonly publisher: MessagePublisher,
  ) {}

  async execute(envelope: EnvelopeOf<'privacy.erase.requested'>): Promise<void> {
    const started = Date.now();
    const profileIds = [
      ...(envelope.data.profileIds ?? []),
      ...(envelope.profileId ? [envelope.profileId] : []),
    ];
    const emails = envelope.data.identifiers.filter((id) => id.type === 'email').map((id) => id.value);
    const previewSamples = await this.samples.erase(profileIds, emails);
    const subject = SUBJECTS.privacy.eraseDone('renderer');
    await this.publisher.publish(
      subject,
      deriveEnvelope(envelope, {
        stage: subject,
        type: 'privacy.erase.done',
        data: {
          requestId: envelope.data.requestId,
          service: 'renderer',
          removed: { previewSamples },
          durationMs: Date.now() - started,
        },
      }),
    );
  }
}
