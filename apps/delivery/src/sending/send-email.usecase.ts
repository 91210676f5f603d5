import { Inject, Injectable } from '@nestjs/common';
import { DeliveryEnv } from '../config.js';
import { deriveEnvelope, deterministicId, type DeliverySentPayload, SUBJECTS } from '@mesh/contracts';
import { type EnvelopeOf, MessagePublisher, PermanentError } from '@mesh/messaging';
import { Mailer, SmtpNotSentError, SmtpRejectedError } from './mailer.js';
import { SendLedgerRepository } from './send-ledger.repository.js';

/** Transient: another handler holds the send; the redelivery finds it settled. */
export class SendInProgressError extends Error {
  override readonly name = 'SendInProgressError';
}

type RenderedEnvelope = EnvelopeOf<'renderer.rendered'>;

/**
 * Sends one rendered email at most once per (campaign, profile, trigger key): the ledger entry is
 * written before the SMTP call and settled after it. A send whose outcome is unknown (the process
 * died during the SMTP call) is never re-sent blindly: it goes to the dead-letter queue for
 * reconciliation. Another rendered email for a send already taken is reported as a skipped duplicate.
 * Consent, suppression and caps come before this in the delivery issue.
 */
@Injectable()
export class SendEmailUseCase {
  constructor(
    private readonly ledger: SendLedgerRepository,
    private readonly mailer: Mailer,
    private readonly publisher: MessagePublisher,
    @Inject(DeliveryEnv) env: DeliveryEnv,
  ) {
    this.inProgressMs = env.DELIVERY_RECONCILE_AFTER_SECONDS * 1000;
  }

  /** A claim younger than this may still be in its SMTP call; older, the process is presumed dead. */
  private readonly inProgressMs: number;

  async execute(envelope: RenderedEnvelope): Promise<void> {
    const email = envelope.data;
    const profileId = envelope.profileId;
    if (!profileId) throw new PermanentError('a rendered email must carry a profile id', 'NO_PROFILE');
    const key = deterministicId('send', email.campaign.campaignId, profileId, email.triggerKey);
    const smtpMessageId = `<${key}@personalization-mesh>`;

    const claim = await this.ledger.claim({
      key,
      campaignId: email.campaign.campaignId,
      profileId,
      triggerKey: email.triggerKey,
      to: email.to,
      smtpMessageId,
      messageId: envelope.id,
    });
    if (!claim.granted) {
      const { existing } = claim;
      // Another email for a send already taken (e.g. a second item added to the same cart): not a redelivery.
      if (existing.claimedBy !== undefined && existing.claimedBy !== envelope.id)
        return this.skipDuplicate(envelope);
      if (existing.status === 'sent')
        return this.announceSent(envelope, smtpMessageId, existing.sentAt ?? new Date());
      // Rejected before: announce it again (same id), in case the first announcement was lost.
      if (existing.status === 'rejected')
        return this.announceFailed(envelope, existing.error ?? 'rejected by the SMTP server');
      // The same message is being sent by another handler right now (a copy in the stream): wait for it.
      if (existing.status === 'sending' && Date.now() - existing.updatedAt.getTime() < this.inProgressMs)
        throw new SendInProgressError(`send ${key} is being sent by another handler; retrying later`);
      throw new PermanentError(
        `send ${key} was started before and its outcome is unknown; not re-sending without reconciliation`,
        'SEND_OUTCOME_UNKNOWN',
      );
    }

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
        await this.announceFailed(envelope, error.message);
        return;
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
    const sentAt = new Date();
    await this.ledger.settle(key, 'sent');
    await this.announceSent(envelope, smtpMessageId, sentAt);
  }

  private async announceFailed(envelope: RenderedEnvelope, reason: string): Promise<void> {
    const { campaign, triggerKey } = envelope.data;
    await this.publisher.publish(
      SUBJECTS.delivery.failed,
      deriveEnvelope(envelope, {
        stage: SUBJECTS.delivery.failed,
        type: 'email.failed',
        data: { campaignId: campaign.campaignId, triggerKey, error: reason.slice(0, 2000) },
      }),
    );
  }

  private async skipDuplicate(envelope: RenderedEnvelope): Promise<void> {
    const { campaign, triggerKey } = envelope.data;
    await this.publisher.publish(
      SUBJECTS.delivery.skipped,
      deriveEnvelope(envelope, {
        stage: SUBJECTS.delivery.skipped,
        type: 'email.skipped',
        data: { campaignId: campaign.campaignId, triggerKey, reason: 'duplicate' },
      }),
    );
  }

  private async announceSent(envelope: RenderedEnvelope, smtpMessageId: string, sentAt: Date): Promise<void> {
    const email = envelope.data;
    const data: DeliverySentPayload = {
      campaignId: email.campaign.campaignId,
      triggerKey: email.triggerKey,
      to: email.to,
      smtpMessageId,
      templateId: email.template.id,
      sentAt: sentAt.toISOString(),
    };
    await this.publisher.publish(
      SUBJECTS.delivery.sent,
      deriveEnvelope(envelope, { stage: SUBJECTS.delivery.sent, type: 'email.sent', data }),
    );
  }
}
