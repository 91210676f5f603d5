import { Controller, Inject, Injectable, Module } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type RecommendedItemDto } from '@mesh/contracts';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { SignalStore } from '../signals/signal-store.js';

/** A click on a recommended product says more than a view and less than adding it to the cart. */
export const CLICK_WEIGHT = 2;
/** A conversion after that click, more again (the order itself is counted from Order Completed). */
export const CONVERSION_WEIGHT = 4;
const SHOWN_TTL_SECONDS = 30 * 24 * 3600;

type Shown = Pick<RecommendedItemDto, 'product_id' | 'url' | 'category'>;

/** What was recommended in each email and what was clicked in it, to credit the right products. */
@Injectable()
export class FeedbackStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async shown(campaignId: string, triggerKey: string, items: readonly RecommendedItemDto[]): Promise<void> {
    if (items.length === 0) return;
    const value: Shown[] = items.map(({ product_id, url, category }) => ({ product_id, url, category }));
    await this.redis.set(`shown:${campaignId}:${triggerKey}`, JSON.stringify(value), 'EX', SHOWN_TTL_SECONDS);
  }

  async itemsShown(campaignId: string, triggerKey: string): Promise<Shown[]> {
    const raw = await this.redis.get(`shown:${campaignId}:${triggerKey}`);
    return raw ? (JSON.parse(raw) as Shown[]) : [];
  }

  async clicked(campaignId: string, triggerKey: string, item: Shown): Promise<void> {
    await this.redis.set(
      `clicked:${campaignId}:${triggerKey}`,
      JSON.stringify(item),
      'EX',
      SHOWN_TTL_SECONDS,
    );
  }

  async itemClicked(campaignId: string, triggerKey: string): Promise<Shown | undefined> {
    const raw = await this.redis.get(`clicked:${campaignId}:${triggerKey}`);
    return raw ? (JSON.parse(raw) as Shown) : undefined;
  }
}

/** The recommended product a clicked link leads to: its URL, or a URL that names its id. */
export function productClicked(items: readonly Shown[], url: string): Shown | undefined {
  return (
    items.find((item) => item.url !== undefined && item.url === url) ??
    items.find((item) => url.includes(encodeURIComponent(item.product_id)))
  );
}

/** delivery.clicked and delivery.converted feed back into the signals as interactions, once each. */
@Controller()
export class FeedbackHandler {
  constructor(
    private readonly feedback: FeedbackStore,
    private readonly signals: SignalStore,
  ) {}

  @OnMessage('delivery.clicked')
  async clicked(@Payload() envelope: EnvelopeOf<'delivery.clicked'>): Promise<void> {
    const { campaignId, triggerKey, url } = envelope.data;
    const item = productClicked(await this.feedback.itemsShown(campaignId, triggerKey), url);
    if (!item) return;
    await this.feedback.clicked(campaignId, triggerKey, item);
    await this.signals.record({
      messageId: envelope.id,
      profileId: envelope.profileId,
      at: Date.parse(envelope.occurredAt),
      weight: CLICK_WEIGHT,
      purchase: false,
      products: [{ id: item.product_id, category: item.category }],
    });
  }

  @OnMessage('delivery.converted')
  async converted(@Payload() envelope: EnvelopeOf<'delivery.converted'>): Promise<void> {
    const item = await this.feedback.itemClicked(envelope.data.campaignId, envelope.data.triggerKey);
    if (!item) return;
    await this.signals.record({
      messageId: envelope.id,
      profileId: envelope.profileId,
      at: Date.parse(envelope.occurredAt),
      weight: CONVERSION_WEIGHT,
      purchase: false,
      products: [{ id: item.product_id, category: item.category }],
    });
  }
}

@Module({
  controllers: [FeedbackHandler],
  providers: [FeedbackStore],
  exports: [FeedbackStore],
})
export class FeedbackModule {}
