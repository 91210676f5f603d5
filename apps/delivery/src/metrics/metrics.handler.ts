import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type Envelope } from '@mesh/contracts';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { type Metric, MetricsRepository } from './metrics.repository.js';

interface Ref {
  campaignId: string;
  variant?: string;
  sendId?: string;
}

/**
 * Counts delivery's own events for the campaign metrics: per email (sent, failed, bounced, unique
 * opens and clicks, unsubscribes, complaints), per event (all opens and clicks), per order (conversions), per message (skips and
 * deferrals, by reason code). Each fact has a key, so redelivered events count once.
 */
@Controller()
export class MetricsHandler {
  constructor(private readonly metrics: MetricsRepository) {}

  @OnMessage('delivery.sent')
  async sent(@Payload() envelope: EnvelopeOf<'delivery.sent'>): Promise<void> {
    await this.perEmail('sent', envelope);
  }

  @OnMessage('delivery.failed')
  async failed(@Payload() envelope: EnvelopeOf<'delivery.failed'>): Promise<void> {
    await this.perEmail('failed', envelope);
  }

  @OnMessage('delivery.bounced')
  async bounced(@Payload() envelope: EnvelopeOf<'delivery.bounced'>): Promise<void> {
    await this.perEmail('bounced', envelope, envelope.data.kind);
  }

  @OnMessage('delivery.opened')
  async opened(@Payload() envelope: EnvelopeOf<'delivery.opened'>): Promise<void> {
    await this.perEmail('opened', envelope);
    // Every open (delivery announces at most one per email and minute), for the total next to the unique.
    await this.metrics.count({
      ...this.ref(envelope),
      key: `open_events:${envelope.id}`,
      metric: 'open_events',
    });
  }

  @OnMessage('delivery.clicked')
  async clicked(@Payload() envelope: EnvelopeOf<'delivery.clicked'>): Promise<void> {
    await this.perEmail('clicked', envelope);
    await this.metrics.count({
      ...this.ref(envelope),
      key: `click_events:${envelope.id}`,
      metric: 'click_events',
    });
  }

  @OnMessage('delivery.unsubscribed')
  async unsubscribed(@Payload() envelope: EnvelopeOf<'delivery.unsubscribed'>): Promise<void> {
    await this.perEmail('unsubscribed', envelope);
  }

  @OnMessage('delivery.complained')
  async complained(@Payload() envelope: EnvelopeOf<'delivery.complained'>): Promise<void> {
    await this.perEmail('complained', envelope);
  }

  @OnMessage('delivery.converted')
  async converted(@Payload() envelope: EnvelopeOf<'delivery.converted'>): Promise<void> {
    await this.metrics.count({
      ...this.ref(envelope),
      key: `converted:${envelope.data.orderId}`,
      metric: 'converted',
      reason: envelope.data.currency,
      value: envelope.data.revenue,
    });
  }

  @OnMessage('delivery.skipped')
  async skipped(@Payload() envelope: EnvelopeOf<'delivery.skipped'>): Promise<void> {
    const { reason, detail } = envelope.data;
    // A copy of a send already made is not a skip of the campaign's audience.
    if (reason === 'duplicate') return;
    await this.metrics.count({
      ...this.ref(envelope),
      key: `skipped:${envelope.id}`,
      metric: 'skipped',
      reason: detail ? `${reason}/${detail}` : reason,
    });
  }

  @OnMessage('delivery.deferred')
  async deferred(@Payload() envelope: EnvelopeOf<'delivery.deferred'>): Promise<void> {
    await this.metrics.count({
      ...this.ref(envelope),
      key: `deferred:${envelope.id}`,
      metric: 'deferred',
      reason: envelope.data.reason,
    });
  }

  /** One fact per email and metric (unique opens and clicks): keyed by the send id. */
  private async perEmail(metric: Metric, envelope: Envelope<Ref>, reason?: string): Promise<void> {
    await this.metrics.count({
      ...this.ref(envelope),
      key: `${metric}:${envelope.data.sendId ?? envelope.id}`,
      metric,
      ...(reason ? { reason } : {}),
    });
  }

  private ref(envelope: Envelope<Ref>) {
    return {
      campaignId: envelope.data.campaignId,
      ...(envelope.data.variant ? { variant: envelope.data.variant } : {}),
      at: new Date(envelope.occurredAt),
    };
  }
}
