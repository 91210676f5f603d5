import { Injectable } from '@nestjs/common';
import { type Envelope, type RenderedEmailPayload } from '@mesh/contracts';
import { type SendOutcome } from './decision-outcomes.js';
import { DeliveryAnnouncer } from './delivery-announcer.js';
import { EmailComposer } from './email-composer.js';
import { Mailer } from './mailer.js';
import { SendLedgerRepository } from './send-ledger.repository.js';
import { SmtpFailures } from './smtp-failures.js';

/** One SMTP attempt for a send this handler holds in the ledger, settled after it. */
@Injectable()
export class AttemptSend {
  constructor(
    private readonly ledger: SendLedgerRepository,
    private readonly composer: EmailComposer,
    private readonly mailer: Mailer,
    private readonly failures: SmtpFailures,
    private readonly announce: DeliveryAnnouncer,
  ) {}

  async execute(
    envelope: Envelope<RenderedEmailPayload>,
    key: string,
    attempts: number,
    now: () => Date,
  ): Promise<SendOutcome> {
    const smtpMessageId = `<${key}@personalization-mesh>`;
    try {
      await this.mailer.send(this.composer.compose(envelope, key, smtpMessageId));
    } catch (error) {
      return this.failures.handle(envelope, key, attempts, error);
    }
    const sentAt = now();
    await this.ledger.settle(key, 'sent', undefined, sentAt);
    await this.announce.sent(envelope, key, smtpMessageId, sentAt);
    return 'sent';
  }
}
