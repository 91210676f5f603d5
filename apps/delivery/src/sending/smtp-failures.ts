import { Inject, Injectable } from '@nestjs/common';
import { type Envelope, type RenderedEmailPayload } from '@mesh/contracts';
import { PermanentError } from '@mesh/messaging';
import { Clock } from '../clock.js';
import { DeliveryEnv } from '../config.js';
import { FrequencyCapsRepository } from '../decisions/frequency-caps.repository.js';
import { DecisionOutcomes, type SendOutcome } from './decision-outcomes.js';
import { DeliveryAnnouncer } from './delivery-announcer.js';
import { SmtpNotSentError, SmtpRejectedError } from './mailer.js';
import { SendLedgerRepository } from './send-ledger.repository.js';

/**
 * What an SMTP failure means for the send: a 5xx is a hard bounce; a 4xx waits (durably, with a
 * doubling delay) and becomes a soft bounce after the last attempt; an unreachable server is
 * retried through the stream; anything around the end of DATA is an unknown outcome, never re-sent.
 * A bounce gives the send's frequency-cap slots back: the email never reached the person.
 */
@Injectable()
export class SmtpFailures {
  constructor(
    private readonly ledger: SendLedgerRepository,
    private readonly outcomes: DecisionOutcomes,
    private readonly announce: DeliveryAnnouncer,
    private readonly caps: FrequencyCapsRepository,
    private readonly clock: Clock,
    @Inject(DeliveryEnv) private readonly env: DeliveryEnv,
  ) {}

  async handle(
    envelope: Envelope<RenderedEmailPayload>,
    key: string,
    attempts: number,
    error: unknown,
  ): Promise<SendOutcome> {
    if (error instanceof SmtpRejectedError) {
      await this.ledger.settle(key, 'bounced', error.message);
      await this.caps.releaseFor(envelope, key);
      await this.announce.bounced(envelope, key, 'hard', error.message);
      return 'failed';
    }
    if (error instanceof SmtpNotSentError && error.responseCode !== undefined) {
      if (attempts >= this.env.DELIVERY_SMTP_MAX_ATTEMPTS) {
        await this.ledger.settle(key, 'failed', error.message);
        await this.caps.releaseFor(envelope, key);
        await this.announce.bounced(envelope, key, 'soft', error.message);
        return 'failed';
      }
      await this.ledger.settle(key, 'retryable', error.message);
      const delayMs = this.env.DELIVERY_SMTP_RETRY_BASE_SECONDS * 1000 * 2 ** (attempts - 1);
      return this.outcomes.defer(envelope, key, new Date(this.clock.now().getTime() + delayMs), 'smtp_retry');
    }
    if (error instanceof SmtpNotSentError) {
      // The server was not reached: safe to try again, through the stream's own backoff.
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
}
