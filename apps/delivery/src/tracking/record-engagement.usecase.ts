import { Injectable } from '@nestjs/common';
import { deterministicId, originEnvelope, type PayloadOf } from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { Clock } from '../clock.js';
import { ConsentRepository } from '../decisions/consent.repository.js';
import { SuppressionRepository } from '../decisions/suppression.repository.js';
import { SendLedgerRepository, type SendRecord } from '../sending/send-ledger.repository.js';

type EngagementSubject = 'delivery.opened' | 'delivery.clicked' | 'delivery.unsubscribed';

/**
 * What a recipient does with an email — opens it, clicks a link, unsubscribes — turned into
 * delivery events about that send. An unsubscribe takes effect before it is announced: the address
 * is suppressed and the consent view says opted out, so the very next send is stopped.
 */
@Injectable()
export class RecordEngagementUseCase {
  constructor(
    private readonly ledger: SendLedgerRepository,
    private readonly suppressions: SuppressionRepository,
    private readonly consents: ConsentRepository,
    private readonly publisher: MessagePublisher,
    private readonly clock: Clock,
  ) {}

  async opened(sendId: string): Promise<void> {
    const send = await this.ledger.find(sendId);
    if (!send) return;
    // Image proxies and re-renders fetch the pixel repeatedly: one event per send and minute.
    const minute = Math.floor(this.clock.now().getTime() / 60_000);
    await this.publish('delivery.opened', send, deterministicId('opened', sendId, String(minute)), {});
  }

  async clicked(sendId: string, url: string): Promise<void> {
    const send = await this.ledger.find(sendId);
    if (!send) return;
    const second = Math.floor(this.clock.now().getTime() / 1000);
    await this.publish('delivery.clicked', send, deterministicId('clicked', sendId, url, String(second)), {
      url,
    });
  }

  /** Returns false when the send is unknown (e.g. erased). */
  async unsubscribed(sendId: string, via: 'one-click' | 'page'): Promise<boolean> {
    const send = await this.ledger.find(sendId);
    if (!send) return false;
    const at = this.clock.now();
    await this.suppressions.add(send.to, { reason: 'unsubscribe', source: `link:${via}`, at });
    await this.consents.record(send.profileId, {
      status: 'opted_out',
      source: `unsubscribe-link:${via}`,
      at,
    });
    await this.publish('delivery.unsubscribed', send, deterministicId('unsubscribed', sendId), {
      channel: 'email' as const,
    });
    return true;
  }

  private async publish<S extends EngagementSubject>(
    subject: S,
    send: SendRecord,
    id: string,
    extra: Omit<PayloadOf<S>, 'campaignId' | 'triggerKey' | 'sendId' | 'variant'>,
  ): Promise<void> {
    const data = {
      campaignId: send.campaignId,
      triggerKey: send.triggerKey,
      sendId: send.key,
      ...(send.variant ? { variant: send.variant } : {}),
      ...extra,
    } as PayloadOf<S>;
    await this.publisher.publish(
      subject,
      originEnvelope({
        id,
        type: subject.replace('delivery.', 'email.'),
        source: 'delivery',
        occurredAt: this.clock.now().toISOString(),
        profileId: send.profileId,
        data,
      }),
    );
  }
}
