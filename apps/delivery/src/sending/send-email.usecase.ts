import { Injectable } from '@nestjs/common';
import { deterministicId, type Envelope, type RenderedEmailPayload } from '@mesh/contracts';
import { PermanentError } from '@mesh/messaging';
import { Clock } from '../clock.js';
import { type DecideOptions, DecideSendUseCase } from '../decisions/decide-send.usecase.js';
import { AttemptSend } from './attempt-send.js';
import { DecisionOutcomes, type SendOutcome } from './decision-outcomes.js';
import { ReplaySend } from './replay-send.js';
import { SendLedgerRepository } from './send-ledger.repository.js';

export { type SendOutcome } from './decision-outcomes.js';
export { SendInProgressError } from './replay-send.js';

type RenderedEnvelope = Envelope<RenderedEmailPayload>;

/** The ledger key: one email per (campaign, profile, trigger key); also the email's Message-ID. */
export function sendKeyOf(envelope: RenderedEnvelope): string {
  return deterministicId(
    'send',
    envelope.data.campaign.campaignId,
    envelope.profileId!,
    envelope.data.triggerKey,
  );
}

/**
 * Sends one rendered email at most once per (campaign, profile, trigger key): the decision point
 * first (skip, defer or send), then the ledger entry is written before the SMTP call and settled
 * after it. Whatever the ledger already holds for the key is replayed, never sent again.
 */
@Injectable()
export class SendEmailUseCase {
  constructor(
    private readonly ledger: SendLedgerRepository,
    private readonly decide: DecideSendUseCase,
    private readonly outcomes: DecisionOutcomes,
    private readonly attempt: AttemptSend,
    private readonly replay: ReplaySend,
    private readonly clock: Clock,
  ) {}

  async execute(envelope: RenderedEnvelope, options: DecideOptions = {}): Promise<SendOutcome> {
    const email = envelope.data;
    const profileId = envelope.profileId;
    if (!profileId) throw new PermanentError('a rendered email must carry a profile id', 'NO_PROFILE');
    const key = sendKeyOf(envelope);

    // The decision first, the ledger after it: a send's claim finds an existing entry by itself (one
    // round trip less on the way of most emails); any other decision looks at the ledger first, so a
    // redelivered email that went out is announced again as sent, never as skipped. The decision's
    // cap reservation is idempotent per send key, so deciding again for a known send changes nothing.
    const now = this.clock.now();
    const decision = await this.decide.execute(envelope, key, now, options);
    if (decision.kind !== 'send') {
      const known = await this.ledger.find(key);
      if (known && known.status !== 'retryable') return this.replay.execute(envelope, known);
    }
    switch (decision.kind) {
      case 'hold':
        return this.outcomes.hold(envelope, key, now);
      case 'skip':
        return this.outcomes.skip(envelope, key, decision.reason, decision.detail);
      case 'defer':
        return this.outcomes.defer(envelope, key, decision.until, decision.reason);
      case 'send':
        break;
    }

    const claim = await this.ledger.claim({
      key,
      campaignId: email.campaign.campaignId,
      ...(email.campaign.variant ? { variant: email.campaign.variant } : {}),
      templateId: email.template.id,
      profileId,
      triggerKey: email.triggerKey,
      to: email.to,
      smtpMessageId: `<${key}@personalization-mesh>`,
      messageId: envelope.id,
    });
    if (!claim.granted) return this.replay.execute(envelope, claim.existing);
    return this.attempt.execute(envelope, key, claim.attempts, () => this.clock.now());
  }
}
