import { Injectable } from '@nestjs/common';
import { deriveEnvelope, type Envelope, type EraseRequestedPayload, SUBJECTS } from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { AttributionRepository } from '../conversions/attribution.repository.js';
import { ConsentRepository } from '../decisions/consent.repository.js';
import { FrequencyCapsRepository } from '../decisions/frequency-caps.repository.js';
import { SuppressionRepository } from '../decisions/suppression.repository.js';
import { DeferralsRepository } from '../deferrals/deferrals.repository.js';
import { FeedbackRepository } from '../feedback/feedback.repository.js';
import { SendLedgerRepository } from '../sending/send-ledger.repository.js';

/**
 * Erases a person from delivery's state: sends scrubbed of address, profile and trigger key,
 * consent view, waiting sends and caps removed; only the address's hash stays, on the suppression
 * list, so an erased person is never mailed again. Then the receipt. Running it again changes nothing.
 */
@Injectable()
export class ErasePersonUseCase {
  constructor(
    private readonly ledger: SendLedgerRepository,
    private readonly suppressions: SuppressionRepository,
    private readonly consents: ConsentRepository,
    private readonly caps: FrequencyCapsRepository,
    private readonly deferrals: DeferralsRepository,
    private readonly feedback: FeedbackRepository,
    private readonly attribution: AttributionRepository,
  ) {}

  async execute(envelope: Envelope<EraseRequestedPayload>, publisher: MessagePublisher): Promise<void> {
    const started = performance.now();
    const request = envelope.data;
    const profileIds = [
      ...new Set([...(request.profileIds ?? []), ...(envelope.profileId ? [envelope.profileId] : [])]),
    ];
    const given = request.identifiers
      .filter((identifier) => identifier.type === 'email')
      .map((identifier) => identifier.value.trim().toLowerCase());

    const deferred = await this.deferrals.eraseProfiles(profileIds);
    const { addresses, scrubbed } = await this.ledger.erase(profileIds, given);
    const suppressed = [...new Set([...given, ...addresses.map((address) => address.toLowerCase())])];
    for (const address of suppressed)
      await this.suppressions.add(address, { reason: 'erased', source: 'privacy', at: new Date() });
    const consents = await this.consents.erase(profileIds);
    const softBounces = await this.feedback.erase(suppressed);
    const touches = await this.attribution.erase(profileIds);
    let caps = 0;
    for (const profileId of profileIds) caps += await this.caps.erase(profileId);

    await publisher.publish(
      SUBJECTS.privacy.eraseDone('delivery'),
      deriveEnvelope(envelope, {
        stage: SUBJECTS.privacy.eraseDone('delivery'),
        type: 'privacy.erase.done',
        data: {
          requestId: request.requestId,
          service: 'delivery',
          removed: {
            sends: scrubbed,
            consents,
            deferredSends: deferred,
            capCounters: caps,
            suppressedHashes: suppressed.length,
            softBounces,
            touchesAndConversions: touches,
          },
          durationMs: Math.round(performance.now() - started),
        },
      }),
    );
  }
}
