import { Inject, Injectable } from '@nestjs/common';
import { deterministicId, originEnvelope } from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { Clock } from '../clock.js';
import { DeliveryEnv } from '../config.js';
import { FrequencyCapsRepository } from '../decisions/frequency-caps.repository.js';
import { SuppressionRepository } from '../decisions/suppression.repository.js';
import { SendLedgerRepository, type SendRecord } from '../sending/send-ledger.repository.js';
import { FeedbackRepository } from './feedback.repository.js';

export type FeedbackKind = 'hard_bounce' | 'soft_bounce' | 'complaint' | 'delivered';

/** One report from the ESP, whatever its format. */
export interface FeedbackEvent {
  provider: 'generic' | 'mailgun' | 'sendgrid' | 'ses';
  /** The ESP's own id of the event: a redelivered report with the same id changes nothing. */
  eventId: string;
  kind: FeedbackKind;
  email: string;
  /** Our send key, from the Message-ID we gave the email (`<sendKey@personalization-mesh>`). */
  sendId?: string;
  occurredAt: Date;
  diagnostic?: string;
}

export type FeedbackOutcome = 'applied' | 'duplicate';

/** `<key@personalization-mesh>` (brackets optional, as ESPs often drop them) → the send key. */
export function sendIdOfMessageId(messageId: string | undefined): string | undefined {
  const match = /^<?([^@<>\s]{1,128})@personalization-mesh>?$/.exec(messageId?.trim() ?? '');
  return match?.[1];
}

/**
 * Bounces and complaints the ESP reports after the SMTP conversation: hard bounces and complaints
 * suppress the address, soft bounces are counted (DELIVERY_SOFT_BOUNCE_LIMIT within the window
 * suppress it), and the matching delivery events are announced when the email is one of ours.
 * A report also settles a send whose outcome was unknown (the ESP had it, so it went out). A hard
 * bounce gives the send's frequency-cap slots back.
 * Effects first, then the event id is recorded: a report that fails half-way is redone in full,
 * and every effect is idempotent.
 */
@Injectable()
export class RecordFeedbackUseCase {
  constructor(
    private readonly feedback: FeedbackRepository,
    private readonly suppressions: SuppressionRepository,
    private readonly ledger: SendLedgerRepository,
    private readonly caps: FrequencyCapsRepository,
    private readonly publisher: MessagePublisher,
    private readonly clock: Clock,
    @Inject(DeliveryEnv) private readonly env: DeliveryEnv,
  ) {}

  async execute(event: FeedbackEvent): Promise<FeedbackOutcome> {
    const eventKey = `${event.provider}:${event.eventId}`;
    if (await this.feedback.isProcessed(eventKey)) return 'duplicate';
    const found = event.sendId ? await this.ledger.find(event.sendId) : undefined;
    // An erased send no longer says whom it went to; the ESP's report is still honoured for the address.
    const send = found && found.to !== 'erased' ? found : undefined;
    const source = `esp:${event.provider}`;
    const id = deterministicId('esp-feedback', eventKey);
    switch (event.kind) {
      case 'hard_bounce':
        await this.suppressions.add(event.email, { reason: 'hard_bounce', source, at: event.occurredAt });
        // It never reached the person: its cap slots are given back. (A soft bounce keeps them: the
        // ESP retries, and the email may still arrive.)
        if (send) await this.caps.release(send.profileId, send.campaignId, send.key);
        if (send) await this.announceBounce(send, event, 'hard', id);
        break;
      case 'soft_bounce':
        await this.countSoftBounce(event.email, event.sendId ?? eventKey, event.occurredAt, source);
        if (send) await this.announceBounce(send, event, 'soft', id);
        break;
      case 'complaint':
        await this.suppressions.add(event.email, { reason: 'complaint', source, at: event.occurredAt });
        if (send) await this.announce('delivery.complained', send, event, id, { to: event.email });
        break;
      case 'delivered':
        break;
    }
    if (found?.status === 'needs_review' || found?.status === 'sending')
      await this.ledger.resolveUnknown(found.key, 'sent', `the ESP reported ${event.kind}`);
    await this.feedback.markProcessed(eventKey, event.kind, this.clock.now());
    return 'applied';
  }

  /** Counts a soft bounce (from the ESP or the SMTP reply) and suppresses the address past the limit. */
  async countSoftBounce(email: string, bounceId: string, at: Date, source: string): Promise<void> {
    const limit = this.env.DELIVERY_SOFT_BOUNCE_LIMIT;
    const since = new Date(
      this.clock.now().getTime() - this.env.DELIVERY_SOFT_BOUNCE_WINDOW_DAYS * 86_400_000,
    );
    const count = await this.feedback.countSoftBounce(email, bounceId, at, since);
    if (limit > 0 && count >= limit)
      await this.suppressions.add(email, {
        reason: 'soft_bounces',
        source,
        at,
        note: `${count} soft bounces within ${this.env.DELIVERY_SOFT_BOUNCE_WINDOW_DAYS} days`,
      });
  }

  private async announceBounce(send: SendRecord, event: FeedbackEvent, kind: 'hard' | 'soft', id: string) {
    await this.announce('delivery.bounced', send, event, id, {
      to: event.email,
      kind,
      diagnostic: (event.diagnostic ?? `${kind} bounce reported by ${event.provider}`).slice(0, 2048),
    });
  }

  private async announce(
    subject: 'delivery.bounced' | 'delivery.complained',
    send: SendRecord,
    event: FeedbackEvent,
    id: string,
    extra: Record<string, unknown>,
  ): Promise<void> {
    await this.publisher.publish(
      subject,
      originEnvelope({
        id,
        type: subject.replace('delivery.', 'email.'),
        source: 'delivery',
        occurredAt: event.occurredAt.toISOString(),
        profileId: send.profileId,
        data: {
          campaignId: send.campaignId,
          triggerKey: send.triggerKey,
          sendId: send.key,
          ...(send.variant ? { variant: send.variant } : {}),
          ...extra,
        } as never,
      }),
    );
  }
}
