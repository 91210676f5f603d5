import { randomUUID } from 'node:crypto';
import {
  type CampaignSpecDto,
  type Envelope,
  originEnvelope,
  type RecommendedSendPayload,
  type ResolvedTrackPayload,
  type SendIntentPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { type MessagePublisher } from '@mesh/messaging';
import {
  consumerIsIdle,
  type MessageTap,
  publishCopy,
  type ServiceUnderTest,
  startServiceUnderTest,
  subjectCounts,
  waitFor,
} from '@mesh/testing';
import { Redis } from 'ioredis';
import { type Db } from 'mongodb';
import { recommendationSpec } from '../src/recommendation.app.js';

const TRACK_CONSUMER = { stream: 'IDENTITY', durable: 'recommendation__identity_resolved_track' };
const INTENT_CONSUMER = { stream: 'ENRICHMENT', durable: 'recommendation__enrichment_triggered' };
const POPULAR = 'recommendation:pop';
// Popularity decays forward from 2026-01-01: events of that instant count their plain weight.
const DECAY_EPOCH = '2026-01-01T00:00:00.000Z';

const CART_REMINDER: CampaignSpecDto = {
  campaignId: 'cart-reminder',
  name: 'You left something in your cart',
  templateId: 'cart-reminder',
  recommendation: { strategy: 'popular', limit: 2 },
  sendPolicy: { maxPerDay: 0, transactional: false },
};

function productEvent(event: string, properties: Record<string, unknown>): Envelope<ResolvedTrackPayload> {
  const messageId = randomUUID();
  return originEnvelope({
    type: 'track',
    source: 'test-source',
    occurredAt: DECAY_EPOCH,
    profileId: 'profile-shopper',
    data: {
      messageId,
      userId: 'shopper',
      event,
      properties,
      identifiers: [{ type: 'user_id', value: 'shopper' }],
    },
  });
}

function sendIntent(
  campaign: CampaignSpecDto,
  trigger: SendIntentPayload['trigger'],
): Envelope<SendIntentPayload> {
  return originEnvelope({
    type: 'campaign.triggered',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    profileId: 'profile-ada',
    data: {
      campaign,
      triggerKey: 'cart:cart-1',
      trigger,
      profile: {
        profileId: 'profile-ada',
        traits: { email: 'ada@example.com', first_name: 'Ada' },
        computed: {},
        version: 3,
      },
    },
  });
}

describe('recommendation: learns from each product event once, answers each send intent once', () => {
  let under: ServiceUnderTest;
  let natsUrl: string;
  let publisher: MessagePublisher;
  let tap: MessageTap;
  let db: Db;
  let redis: Redis;

  beforeAll(async () => {
    under = await startServiceUnderTest({ name: 'recommendation', spec: recommendationSpec, redis: true });
    ({ natsUrl, publisher, tap, db } = under);
    redis = new Redis(under.redisUrl!);
  }, 60_000);

  // Popularity is Redis state meant to be rebuilt from the stream: each test starts from none.
  beforeEach(() => redis.flushdb());
  afterAll(async () => {
    redis?.disconnect();
    await under?.close();
  });

  const settled = (consumer: { stream: string; durable: string }) =>
    waitFor(`${consumer.durable} to settle everything`, () =>
      consumerIsIdle(natsUrl, consumer.stream, consumer.durable),
    );
  /** Publishes product events one after another, each learnt before the next. */
  const learn = async (...events: Envelope<ResolvedTrackPayload>[]) => {
    for (const event of events) {
      await publisher.publish(SUBJECTS.identity.resolved.track, event);
      await settled(TRACK_CONSUMER);
    }
  };
  const popularity = async () => {
    const flat = await redis.zrevrange(POPULAR, 0, -1, 'WITHSCORES');
    const scores: Record<string, number> = {};
    for (let i = 0; i < flat.length; i += 2) scores[flat[i]!] = Number(flat[i + 1]);
    return scores;
  };
  const product = (id: string) => db.collection('products').findOne({ _id: id as never });
  const attached = (input: Envelope) =>
    tap.nextCausedBy<RecommendedSendPayload>(SUBJECTS.recommendation.attached, input);
  const stored = async () =>
    (await subjectCounts(natsUrl, 'RECOMMENDATION'))[SUBJECTS.recommendation.attached] ?? 0;

  it('builds the catalog and popularity from product events, and counts a redelivered view once', async () => {
    const viewed = productEvent('Product Viewed', {
      product_id: 'sku-mouse',
      name: 'Wireless Mouse',
      price: 25,
      currency: 'EUR',
    });
    await learn(viewed);
    await publishCopy(natsUrl, SUBJECTS.identity.resolved.track, viewed);
    await settled(TRACK_CONSUMER);

    expect(await popularity()).toEqual({ 'sku-mouse': 1 });
    expect(await product('sku-mouse')).toMatchObject({ name: 'Wireless Mouse', price: 25, currency: 'EUR' });
    // The id that made the copy count once is kept for RECOMMENDATION_DEDUP_SECONDS (1 h), not for good.
    const ttl = await redis.ttl(`recommendation:seen:${viewed.id}`);
    expect(ttl).toBeGreaterThan(3_500);
    expect(ttl).toBeLessThanOrEqual(3_600);

    await learn(
      productEvent('Order Completed', {
        order_id: 'order-1',
        currency: 'EUR',
        products: [
          { product_id: 'sku-mouse', quantity: 2 },
          { product_id: 'sku-pad', name: 'Mouse Pad', price: 9 },
        ],
      }),
      productEvent('Signed Up', { product_id: 'sku-mouse' }),
    );

    expect(await popularity()).toEqual({ 'sku-mouse': 6, 'sku-pad': 5 });
    // An event that names a product only by id keeps what earlier events said about it.
    expect(await product('sku-mouse')).toMatchObject({ name: 'Wireless Mouse', price: 25, currency: 'EUR' });
    expect(await product('sku-pad')).toMatchObject({ name: 'Mouse Pad', price: 9, currency: 'EUR' });
  });

  it('attaches the most popular products but the one in hand, once even when the intent is redelivered', async () => {
    await learn(
      productEvent('Product Added', { product_id: 'sku-laptop', name: 'Laptop 13', price: 1299 }),
      productEvent('Order Completed', {
        order_id: 'order-2',
        currency: 'EUR',
        products: [
          { product_id: 'sku-laptop', name: 'Laptop 13', price: 1299 },
          { product_id: 'sku-bag', name: 'Laptop Bag', price: 59 },
        ],
      }),
      productEvent('Product Viewed', { product_id: 'sku-cable', name: 'USB-C Cable', price: 12 }),
      productEvent('Product Viewed', { product_id: 'sku-cable', name: 'USB-C Cable', price: 12 }),
      productEvent('Product Viewed', { product_id: 'sku-stand', name: 'Laptop Stand', price: 39 }),
    );
    expect(await popularity()).toEqual({ 'sku-laptop': 8, 'sku-bag': 5, 'sku-cable': 2, 'sku-stand': 1 });
    const intent = sendIntent(CART_REMINDER, {
      event: 'Product Added',
      properties: { product_id: 'sku-laptop', name: 'Laptop 13', cart_id: 'cart-1' },
    });
    const before = await stored();

    await publisher.publish(SUBJECTS.enrichment.triggered, intent);
    const answer = await attached(intent);
    await settled(INTENT_CONSUMER);
    await publishCopy(natsUrl, SUBJECTS.enrichment.triggered, intent);
    await settled(INTENT_CONSUMER);

    expect(answer.envelope.profileId).toBe('profile-ada');
    expect(answer.envelope.data).toMatchObject({ ...intent.data });
    expect(answer.envelope.data.recommendations).toEqual({
      strategy: 'popular',
      items: [
        {
          product_id: 'sku-bag',
          name: 'Laptop Bag',
          price: 59,
          currency: 'EUR',
          score: 5,
          reason: 'popular',
        },
        { product_id: 'sku-cable', name: 'USB-C Cable', price: 12, score: 2, reason: 'popular' },
      ],
    });
    // The copy was answered again under the same id, and the stream kept one answer.
    const answers = tap
      .messages(SUBJECTS.recommendation.attached)
      .filter((message) => message.envelope.causationId === intent.id);
    expect(answers).toHaveLength(2);
    expect(answers[1]!.envelope.id).toBe(answer.envelope.id);
    expect(await stored()).toBe(before + 1);
  });

  it('attaches no products when the campaign asks for none', async () => {
    await learn(productEvent('Product Viewed', { product_id: 'sku-cable', name: 'USB-C Cable' }));
    const intent = sendIntent(
      { ...CART_REMINDER, campaignId: 'welcome', recommendation: { strategy: 'none', limit: 3 } },
      { event: 'Signed Up', properties: {} },
    );

    await publisher.publish(SUBJECTS.enrichment.triggered, intent);

    expect((await attached(intent)).envelope.data.recommendations).toEqual({ strategy: 'none', items: [] });
  });
});
