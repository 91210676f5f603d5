import { Inject, Injectable } from '@nestjs/common';
import { type Envelope, type RenderedEmailPayload } from '@mesh/contracts';
import { PermanentError } from '@mesh/messaging';
import { DeliveryEnv } from '../config.js';
import { FrequencyCapsRepository } from '../decisions/frequency-caps.repository.js';
import { DeliveryAnnouncer } from './delivery-announcer.js';
import { type SendOutcome } from './decision-outcomes.js';
import { type SendRecord } from './send-ledger.repository.js';

/** Transient: another handler holds the send; the redelivery finds it settled. */
export class SendInProgressError extends Error {
  override readonly name = 'SendInProgressError';
}

/**
 * A rendered email whose send key is already in the ledger: a redelivery (announce again what
 * happened, under the same id), another intent for the same send (a duplicate), or a send whose
 * outcome is unknown (dead-lettered for reconciliation, never re-sent blindly).
 */
@Injectable()
export class ReplaySend {
  /** A claim younger than this may still be in its SMTP call; older, the process is presumed dead. */
  private readonly inProgressMs: number;

  constructor(
    private readonly announce: DeliveryAnnouncer,
    private readonly caps: FrequencyCapsRepository,
    @Inject(DeliveryEnv) env: DeliveryEnv,
  ) {
    this.inProgressMs = env.DELIVERY_RECONCILE_AFTER_SECONDS * 1000;
  }

  async execute(envelope: Envelope<RenderedEmailPayload>, existing: SendRecord): Promise<SendOutcome> {
    const key = existing.key;
    // Another email for a send already taken (e.g. a second item added to the same cart): not a redelivery.
    if (existing.claimedBy !== undefined && existing.claimedBy !== envelope.id) {
      await this.announce.skipped(envelope, key, 'duplicate');
      return 'skipped';
    }
    switch (existing.status) {
      case 'sent':
        await this.announce.sent(envelope, key, existing.smtpMessageId, existing.sentAt ?? new Date());
        return 'announced';
      case 'bounced':
      case 'rejected':
        // Again in case the process stopped between settling the bounce and giving the slot back.
        await this.caps.releaseFor(envelope, key);
        await this.announce.bounced(envelope, key, 'hard', existing.error ?? 'rejected by the SMTP server');
        return 'announced';
      case 'failed':
        await this.caps.releaseFor(envelope, key);
        await this.announce.bounced(envelope, key, 'soft', existing.error ?? 'refused by the SMTP server');
        return 'announced';
      case 'sending':
        // The same message is being sent by another handler right now (a copy in the stream): wait for it.
        if (Date.now() - existing.updatedAt.getTime() < this.inProgressMs)
          throw new SendInProgressError(`send ${key} is being sent by another handler; retrying later`);
        break;
      case 'needs_review':
      case 'retryable':
        break;
    }
    throw new PermanentError(
      `send ${key} was started before and its outcome is unknown; not re-sending without reconciliation`,
      'SEND_OUTCOME_UNKNOWN',
    );
  }
}
