import { Inject, Injectable } from '@nestjs/common';
import { deterministicId, type Envelope, type RenderedEmailPayload } from '@mesh/contracts';
import { PermanentError } from '@mesh/messaging';
import { Clock } from '../clock.js';
import { DeliveryEnv } from '../config.js';
import { DecideSendUseCase } from '../decisions/decide-send.usecase.js';
import { DeferralsRepository } from '../deferrals/deferrals.repository.js';
import { DeliveryAnnouncer } from './delivery-announcer.js';
import { Mailer, SmtpNotSentError, SmtpRejectedError } from './mailer.js';
import { SendLedgerRepository, type SendRecord } from './send-ledger.repository.js';

/** Transient: another handler holds the send; the redelivery finds it settled. */
export class SendInProgressError extends Error {
  override readonly name = 'SendInProgressError';
}

type RenderedEnvelope = Envelope<RenderedEmailPayload>;
export type SendOutcome = 'sent' | 'skipped' | 'deferred' | 'failed' | 'announced';

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
 * Sends one rendered email at most once per (campaign, profile, trigger key): after the decision
 * point lets it through, the ledger entry is written before the SMTP call and settled after it. A
 * send whose outcome is unknown (the process died during the SMTP call) is never re-sent blindly: it
 * goes to the dead-letter queue for reconciliation. Another rendered email for a send already taken
 * is reported as a skipped duplicate.
 */
@Injectable()
export class SendEmailUseCase {
  /** A claim younger than this may still be in its SMTP call; older, the process is presumed dead. */
  private readonly inProgressMs: number;

  constructor(
    private readonly ledger: SendLedgerRepository,
    private readonly decide: DecideSendUseCase,
    private readonly deferrals: DeferralsRepository,
    private readonly mailer: Mailer,
    private readonly announce: DeliveryAnnouncer,
    private readonly clock: Clock,
    @Inject(DeliveryEnv) env: DeliveryEnv,
  ) {
    this.inProgressMs = env.DELIVERY_RECONCILE_AFTER_SECONDS * 1000;
  }

  async execute(envelope: RenderedEnvelope): Promise<SendOutcome> {
    const now = this.clock.now();
    const email = envelope.data;
    const profileId = envelope.profileId;
    if (!profileId) throw new PermanentError('a rendered email must carry a profile id', 'NO_PROFILE');
    const key = sendKeyOf(envelope);
    const smtpMessageId = `<${key}@personalization-mesh>`;

    const known = await this.ledger.find(key);
    if (known && known.status !== 'retryable') return this.alreadyTaken(envelope, known);

    const decision = await this.decide.execute(envelope, key, now);
    switch (decision.kind) {
      case 'skip':
        await this.announce.skipped(envelope, key, decision.reason, decision.detail);
        return 'skipped';
      case 'defer': {
        const parked = await this.deferrals.defer({
          key,
          envelope,
          dueAt: decision.until,
          priority: email.campaign.priority ?? 0,
          reason: decision.reason,
        });
        if (parked === 'duplicate') {
          await this.announce.skipped(envelope, key, 'duplicate');
          return 'skipped';
        }
        await this.announce.deferred(envelope, key, decision.until, decision.reason);
        return 'deferred';
      }
      case 'send':
        break;
    }

    const claim = await this.ledger.claim({
      key,
      campaignId: email.campaign.campaignId,
      profileId,
      triggerKey: email.triggerKey,
      to: email.to,
      smtpMessageId,
      messageId: envelope.id,
    });
    if (!claim.granted) return this.alreadyTaken(envelope, claim.existing);

    try {
      await this.mailer.send({
        to: email.to,
        subject: email.subject,
        html: email.html,
        text: email.text,
        messageId: smtpMessageId,
      });
    } catch (error) {
      if (error instanceof SmtpRejectedError) {
        await this.ledger.settle(key, 'rejected', error.message);
        await this.decide.refused(envelope, key);
        await this.announce.failed(envelope, key, error.message);
        return 'failed';
      }
      if (error instanceof SmtpNotSentError) {
        // The server did not take it (unreachable, 4xx): safe to try again.
        await this.ledger.settle(key, 'retryable', error.message);
        throw error;
      }
      // The connection broke around the end of DATA: it may have been delivered. The ledger stays
      // `sending`, so no retry sends it again; it waits for reconciliation in the dead-letter queue.
      throw new PermanentError(
        `send ${key}: outcome unknown after an SMTP failure (${(error as Error).message}); not re-sending`,
        'SEND_OUTCOME_UNKNOWN',
        { cause: error },
      );
    }
    const sentAt = this.clock.now();
    await this.ledger.settle(key, 'sent', undefined, sentAt);
    await this.announce.sent(envelope, key, smtpMessageId, sentAt);
    return 'sent';
  }

  /** The send key is in the ledger already: a redelivery, a duplicate intent, or an unknown outcome. */
  private async alreadyTaken(envelope: RenderedEnvelope, existing: SendRecord): Promise<SendOutcome> {
    const key = existing.key;
    // Another email for a send already taken (e.g. a second item added to the same cart): not a redelivery.
    if (existing.claimedBy !== undefined && existing.claimedBy !== envelope.id) {
      await this.announce.skipped(envelope, key, 'duplicate');
      return 'skipped';
    }
    if (existing.status === 'sent') {
      await this.announce.sent(envelope, key, existing.smtpMessageId, existing.sentAt ?? new Date());
      return 'announced';
    }
    // Rejected before: announce it again (same id), in case the first announcement was lost.
    if (existing.status === 'rejected') {
      await this.announce.failed(envelope, key, existing.error ?? 'rejected by the SMTP server');
      return 'announced';
    }
    // The same message is being sent by another handler right now (a copy in the stream): wait for it.
    if (existing.status === 'sending' && Date.now() - existing.updatedAt.getTime() < this.inProgressMs)
      throw new SendInProgressError(`send ${key} is being sent by another handler; retrying later`);
    throw new PermanentError(
      `send ${key} was started before and its outcome is unknown; not re-sending without reconciliation`,
      'SEND_OUTCOME_UNKNOWN',
    );
  }
}
