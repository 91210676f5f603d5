import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { deterministicId, originEnvelope } from '@mesh/contracts';
import { type EnvelopeOf, MessagePublisher, OnMessage } from '@mesh/messaging';
import { DeliveryEnv } from '../config.js';
import {
  AttributionRepository,
  type Touch,
  type TouchKind,
  type UncreditedOrder,
} from './attribution.repository.js';

const byProfile = (envelope: { profileId?: string }) => envelope.profileId;
const HOUR = 3_600_000;

type TouchEnvelope =
  EnvelopeOf<'delivery.sent'> | EnvelopeOf<'delivery.opened'> | EnvelopeOf<'delivery.clicked'>;

/** Segment's `revenue`, else `total`; numbers or numeric strings. */
function amount(properties: Record<string, unknown>): number {
  for (const value of [properties.revenue, properties.total]) {
    const number = typeof value === 'string' ? Number(value) : value;
    if (typeof number === 'number' && Number.isFinite(number)) return number;
  }
  return 0;
}

function orderIdOf(properties: Record<string, unknown>): string | undefined {
  const id = properties.order_id ?? properties.orderId;
  if (typeof id === 'string' && id.trim() !== '') return id.trim().slice(0, 256);
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return undefined;
}

/**
 * Conversions, last touch: an `Order Completed` of a profile is credited to the latest click of one
 * of its emails within DELIVERY_ATTRIBUTION_CLICK_HOURS (default 5 days) before the order, else the
 * latest open within DELIVERY_ATTRIBUTION_OPEN_HOURS (1 day), else the latest email sent within
 * DELIVERY_ATTRIBUTION_SEND_HOURS (off by default). Once per order id: the first attribution is kept
 * and `delivery.converted` carries a message id derived from the order id. An order with no touch is
 * kept for the longest of those windows: a merge within that time (the emailed person logs in on
 * the device they ordered from) brings the merged profile's touches, and credits it then.
 */
@Controller()
export class ConversionsHandler {
  private prunedAt = 0;

  constructor(
    private readonly attribution: AttributionRepository,
    private readonly publisher: MessagePublisher,
    @Inject(DeliveryEnv) private readonly env: DeliveryEnv,
  ) {}

  @OnMessage('delivery.sent', { orderBy: byProfile })
  async sent(@Payload() envelope: EnvelopeOf<'delivery.sent'>): Promise<void> {
    // A write per email saved when sends do not count as touches (the default).
    if (this.env.DELIVERY_ATTRIBUTION_SEND_HOURS === 0) return;
    await this.record('send', envelope);
  }

  @OnMessage('delivery.opened', { orderBy: byProfile })
  async opened(@Payload() envelope: EnvelopeOf<'delivery.opened'>): Promise<void> {
    await this.record('open', envelope);
  }

  @OnMessage('delivery.clicked', { orderBy: byProfile })
  async clicked(@Payload() envelope: EnvelopeOf<'delivery.clicked'>): Promise<void> {
    await this.record('click', envelope);
  }

  /**
   * A profile merged into another (e.g. the emailed one logs in on a new device): its touches and its
   * uncredited orders move along, and the survivor's uncredited orders are credited if a touch now
   * comes before them. Redelivered: nothing moves again, and a credited order converts once.
   */
  @OnMessage('identity.merged', { orderBy: (envelope) => envelope.data.survivorId })
  async merged(@Payload() envelope: EnvelopeOf<'identity.merged'>): Promise<void> {
    const { survivorId } = envelope.data;
    const mergedIds = envelope.data.mergedIds.filter((id) => id !== survivorId);
    if (mergedIds.length === 0) return;
    // Recorded before anything moves: an order held for a merged profile after the move below sees it.
    await this.attribution.recordMerge(mergedIds, survivorId);
    await this.creditAfterMerge(mergedIds, survivorId);
  }

  /** Moves the merged profiles' touches and uncredited orders, and credits what a touch now comes before. */
  private async creditAfterMerge(mergedIds: readonly string[], survivorId: string): Promise<void> {
    await this.attribution.moveToSurvivor(mergedIds, survivorId);
    const since = new Date(Date.now() - this.holdHours() * HOUR);
    for (const order of await this.attribution.uncreditedOf(survivorId, since)) {
      const touch = await this.lastTouch(survivorId, order.at);
      if (touch) await this.credit(order, touch);
    }
  }

  @OnMessage('identity.resolved.track', { orderBy: byProfile })
  async track(@Payload() envelope: EnvelopeOf<'identity.resolved.track'>): Promise<void> {
    if (envelope.data.event !== 'Order Completed' || !envelope.profileId) return;
    const properties = envelope.data.properties;
    const orderId = orderIdOf(properties) ?? `message:${envelope.data.messageId}`;
    const currency =
      typeof properties.currency === 'string' && /^[A-Za-z]{3}$/.test(properties.currency)
        ? properties.currency.toUpperCase()
        : 'USD';
    const order: UncreditedOrder = {
      orderId,
      // An order resolved just before its profile was merged away belongs to the survivor.
      profileId: await this.attribution.liveProfile(envelope.profileId),
      revenue: amount(properties),
      currency,
      at: new Date(envelope.occurredAt),
    };
    const touch = await this.lastTouch(order.profileId, order.at);
    if (touch) return this.credit(order, touch);
    await this.attribution.holdUncredited(order);
    // A merge of this profile handled meanwhile moved its orders before this one was held: follow it.
    const live = await this.attribution.liveProfile(order.profileId);
    if (live !== order.profileId) await this.creditAfterMerge([order.profileId], live);
    await this.forgetOldUncredited();
  }

  /** Records the order's conversion (the first attribution of an order is kept) and announces it. */
  private async credit(order: UncreditedOrder, touch: Touch): Promise<void> {
    const conversion = await this.attribution.convert({ ...order, touch });
    const credited = conversion.touch;
    await this.publisher.publish(
      'delivery.converted',
      originEnvelope({
        id: deterministicId('delivery.converted', conversion.orderId),
        type: 'email.converted',
        source: 'delivery',
        occurredAt: conversion.at.toISOString(),
        profileId: conversion.profileId,
        data: {
          campaignId: credited.campaignId,
          triggerKey: credited.triggerKey,
          sendId: credited.sendId,
          ...(credited.variant ? { variant: credited.variant } : {}),
          orderId: conversion.orderId,
          revenue: conversion.revenue,
          currency: conversion.currency,
          touch: credited.kind,
          touchedAt: credited.at.toISOString(),
          ...(credited.kind === 'click' ? { clickedAt: credited.at.toISOString() } : {}),
        },
      }),
    );
    await this.attribution.dropUncredited(order.orderId);
  }

  /** How long an uncredited order waits for a merge: the longest attribution window. */
  private holdHours(): number {
    const {
      DELIVERY_ATTRIBUTION_CLICK_HOURS,
      DELIVERY_ATTRIBUTION_OPEN_HOURS,
      DELIVERY_ATTRIBUTION_SEND_HOURS,
    } = this.env;
    return Math.max(
      DELIVERY_ATTRIBUTION_CLICK_HOURS,
      DELIVERY_ATTRIBUTION_OPEN_HOURS,
      DELIVERY_ATTRIBUTION_SEND_HOURS,
    );
  }

  /** At most once an hour per replica: orders held past the longest window are forgotten. */
  private async forgetOldUncredited(): Promise<void> {
    if (Date.now() - this.prunedAt < HOUR) return;
    this.prunedAt = Date.now();
    await this.attribution.forgetUncreditedBefore(new Date(Date.now() - this.holdHours() * HOUR));
  }

  private async lastTouch(profileId: string, at: Date): Promise<Touch | undefined> {
    const windows: [TouchKind, number][] = [
      ['click', this.env.DELIVERY_ATTRIBUTION_CLICK_HOURS],
      ['open', this.env.DELIVERY_ATTRIBUTION_OPEN_HOURS],
      ['send', this.env.DELIVERY_ATTRIBUTION_SEND_HOURS],
    ];
    for (const [kind, hours] of windows) {
      if (hours === 0) continue;
      const touch = await this.attribution.latest(profileId, kind, new Date(at.getTime() - hours * HOUR), at);
      if (touch) return touch;
    }
    return undefined;
  }

  private async record(kind: TouchKind, envelope: TouchEnvelope): Promise<void> {
    const { data } = envelope;
    if (!envelope.profileId || !data.sendId) return;
    await this.attribution.touch({
      kind,
      profileId: envelope.profileId,
      sendId: data.sendId,
      campaignId: data.campaignId,
      triggerKey: data.triggerKey,
      ...(data.variant ? { variant: data.variant } : {}),
      at: new Date(envelope.occurredAt),
    });
  }
}
