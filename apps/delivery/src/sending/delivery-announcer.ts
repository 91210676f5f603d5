import { Injectable } from '@nestjs/common';
import {
  deriveEnvelope,
  type DeliveryRefPayload,
  type Envelope,
  type RenderedEmailPayload,
  type SkipReason,
  SUBJECTS,
} from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { metrics } from '@opentelemetry/api';

type Rendered = Envelope<RenderedEmailPayload>;

/** What every delivery event about one email repeats: which email it is. */
export function emailRef(envelope: Rendered, sendId: string): DeliveryRefPayload {
  const { campaign, triggerKey } = envelope.data;
  return {
    campaignId: campaign.campaignId,
    triggerKey,
    sendId,
    ...(campaign.variant ? { variant: campaign.variant } : {}),
  };
}

/**
 * Publishes the outcome of one rendered email. Ids derive from the rendered message, so announcing
 * again (a redelivery) republishes the same id and the stream keeps one.
 */
@Injectable()
export class DeliveryAnnouncer {
  /**
   * Announced outcomes by `outcome` (sent, skipped, deferred, bounced, failed) and `reason` (the skip
   * or deferral reason code, the bounce kind): the dashboards' "sends and skip reasons". An operational
   * rate, counted per announcement (a redelivered intent announces again); the campaign metrics API
   * is the exact, deduplicated count.
   */
  private readonly outcomes = metrics.getMeter('@mesh/delivery').createCounter('delivery.outcomes', {
    description: 'Outcomes of rendered emails announced by delivery, by outcome and reason code',
  });

  constructor(private readonly publisher: MessagePublisher) {}

  async sent(envelope: Rendered, sendId: string, smtpMessageId: string, sentAt: Date): Promise<void> {
    const email = envelope.data;
    await this.publisher.publish(
      SUBJECTS.delivery.sent,
      deriveEnvelope(envelope, {
        stage: SUBJECTS.delivery.sent,
        type: 'email.sent',
        data: {
          ...emailRef(envelope, sendId),
          to: email.to,
          smtpMessageId,
          templateId: email.template.id,
          sentAt: sentAt.toISOString(),
        },
      }),
    );
    this.outcomes.add(1, { outcome: 'sent', reason: 'none' });
  }

  async skipped(envelope: Rendered, sendId: string, reason: SkipReason, detail?: string): Promise<void> {
    await this.publisher.publish(
      SUBJECTS.delivery.skipped,
      deriveEnvelope(envelope, {
        stage: SUBJECTS.delivery.skipped,
        type: 'email.skipped',
        data: { ...emailRef(envelope, sendId), reason, ...(detail ? { detail } : {}) },
      }),
    );
    this.outcomes.add(1, { outcome: 'skipped', reason });
  }

  async deferred(envelope: Rendered, sendId: string, until: Date, reason: string): Promise<void> {
    await this.publisher.publish(
      SUBJECTS.delivery.deferred,
      deriveEnvelope(envelope, {
        // One announcement per deferral time: a send deferred again announces again.
        stage: `${SUBJECTS.delivery.deferred}:${until.toISOString()}`,
        type: 'email.deferred',
        data: { ...emailRef(envelope, sendId), until: until.toISOString(), reason },
      }),
    );
    this.outcomes.add(1, { outcome: 'deferred', reason });
  }

  async bounced(
    envelope: Rendered,
    sendId: string,
    kind: 'hard' | 'soft',
    diagnostic: string,
  ): Promise<void> {
    await this.publisher.publish(
      SUBJECTS.delivery.bounced,
      deriveEnvelope(envelope, {
        stage: SUBJECTS.delivery.bounced,
        type: 'email.bounced',
        data: {
          ...emailRef(envelope, sendId),
          to: envelope.data.to,
          kind,
          diagnostic: diagnostic.slice(0, 2000),
        },
      }),
    );
    this.outcomes.add(1, { outcome: 'bounced', reason: kind });
  }

  async failed(envelope: Rendered, sendId: string, error: string): Promise<void> {
    await this.publisher.publish(
      SUBJECTS.delivery.failed,
      deriveEnvelope(envelope, {
        stage: SUBJECTS.delivery.failed,
        type: 'email.failed',
        data: { ...emailRef(envelope, sendId), error: error.slice(0, 2000) },
      }),
    );
    this.outcomes.add(1, { outcome: 'failed', reason: 'error' });
  }
}
