import { randomUUID } from 'node:crypto';
import {
  type CampaignSpecDto,
  type Envelope,
  originEnvelope,
  type RecommendationsDto,
  type RecommendedSendPayload,
  type ResolvedTrackPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { type MessagePublisher } from '@mesh/messaging';
import {
  consumerIsIdle,
  type MessageTap,
  publishCopy,
  type ServiceUnderTest,
  startServiceUnderTest,
  waitFor,
} from '@mesh/testing';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { type GeneratedEvent, plantedHistory, precisionRecall } from '../src/evaluation/planted-history.js';
import { CatalogRepository } from '../src/catalog/catalog.repository.js';
import { ChangeNotices } from '@mesh/storage';
import { recommendationSpec } from '../src/recommendation.app.js';
import { rebuildSignals } from '../src/signals/rebuild-signals.js';
import { CO_OCCURRENCE_KEEP, SignalStore } from '../src/signals/signal-store.js';

const TRACK_CONSUMER = { stream: 'IDENTITY', durable: 'recommendation__identity_resolved_track' };
const TOKEN = 'recommendation-test-admin-token';
const HOUR = 3600_000;

type Answer = RecommendationsDto & { customer_id: string; profile_id: string };

function trackEnvelope(
  event: GeneratedEvent,
  userId = `user-${event.profileId}`,
): Envelope<ResolvedTrackPayload> {
  const products = event.productIds.map((product_id) => ({ product_id }));
  const properties =
    event.event === 'Order Completed'
      ? { order_id: randomUUID(), currency: 'EUR', products }
      : { ...products[0] };
  return originEnvelope({
    type: 'track',
    source: 'test-source',
    occurredAt: new Date(event.at).toISOString(),
    profileId: event.profileId,
    data: {
      messageId: randomUUID(),
      userId,
      event: event.event,
      properties,
      identifiers: [{ type: 'user_id', value: userId }],
    },
  });
}

describe('recommendation strategies: planted co-purchases, business rules, fallbacks, the seed API', () => {
  let under: ServiceUnderTest;
  let publisher: MessagePublisher;
  let tap: MessageTap;
  let redis: Redis;
  const history = plantedHistory({ end: Date.now() - HOUR });

  const api = (path: string, body?: unknown, token = TOKEN) =>
    fetch(`${under.service.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const recommend = async (body: Record<string, unknown>): Promise<Answer> => {
    const response = await api('/api/recommendations', body);
    expect(response.status).toBe(200);
    return (await response.json()) as Answer;
  };
  const ids = (answer: RecommendationsDto) => answer.items.map((item) => item.product_id);
  const learn = async (events: readonly Envelope<ResolvedTrackPayload>[]) => {
    for (const event of events) await publisher.publish(SUBJECTS.identity.resolved.track, event);
    await waitFor(
      'every product event learnt',
      () => consumerIsIdle(under.natsUrl, TRACK_CONSUMER.stream, TRACK_CONSUMER.durable),
      120_000,
    );
  };

  beforeAll(async () => {
    under = await startServiceUnderTest({ name: 'recommendation', spec: recommendationSpec, redis: true });
    ({ publisher, tap } = under);
    redis = new Redis(under.redisUrl!);
    const imported = await api('/api/catalog/products', { products: history.catalog });
    expect(await imported.json()).toEqual({ imported: history.catalog.length });
    await learn(history.events.map((event) => trackEnvelope(event)));
  }, 180_000);

  afterAll(async () => {
    redis?.disconnect();
    await under?.close();
  });

  it('guards the catalog admin API and names the field at fault', async () => {
    expect((await api('/api/catalog/products/p0a', undefined, 'wrong-token-wrong-token')).status).toBe(401);
    expect((await api('/api/recommendations', { customer_id: 'x' }, '')).status).toBe(401);
    const invalid = await api('/api/catalog/products', { products: [{ product_id: 'x', stock: -1 }] });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { fields: Record<string, unknown> }).fields).toHaveProperty([
      'products.0.stock',
    ]);
    expect(await (await api('/api/catalog/products/p0a')).json()).toMatchObject({
      product_id: 'p0a',
      category: 'cat-0',
      stock: 10,
    });
    expect((await api('/api/catalog/products/nope')).status).toBe(404);
  });

  it('bought-together recovers the planted pairs, far better than popularity', async () => {
    let together = 0;
    let popular = 0;
    let recall = 0;
    for (const [product, partners] of history.partners) {
      const relevant = new Set(partners);
      const cart = { customer_id: 'someone-new', context: { cart: [product] }, count: 5 };
      const paired = await recommend({ ...cart, strategy: 'bought_together' });
      const popularAnswer = await recommend({ ...cart, strategy: 'popular' });
      expect(paired.fallback).toBeUndefined();
      expect(paired.items[0]).toMatchObject({
        product_id: partners[0],
        reason: `bought_together:${product}`,
      });
      expect(paired.items[0]!.score).toBeGreaterThan(0);
      const pairedScore = precisionRecall(ids(paired), relevant, 5);
      together += pairedScore.precision;
      recall += pairedScore.recall;
      popular += precisionRecall(ids(popularAnswer), relevant, 5).precision;
    }
    const n = history.partners.size;
    // One partner per product: 0.2 is the best precision@5 there is.
    expect(together / n).toBeGreaterThanOrEqual(0.19);
    expect(recall / n).toBeGreaterThanOrEqual(0.95);
    expect(popular / n).toBeLessThanOrEqual(0.02);
    expect(together).toBeGreaterThan(5 * popular);
  });

  it('answers the seed body: customer id resolved to the profile, history excluded, items with score and reason', async () => {
    const answer = await recommend({
      customer_id: 'user-buyer-0',
      context: { browsing_history: ['p3a'], purchase_history: ['p3b'] },
      strategy: 'personal',
      count: 4,
    });
    expect(answer).toMatchObject({
      customer_id: 'user-buyer-0',
      profile_id: 'buyer-0',
      strategy: 'personal',
    });
    expect(answer.items).toHaveLength(4);
    const bought = history.events.find((e) => e.profileId === 'buyer-0' && e.event === 'Order Completed')!;
    for (const item of answer.items) {
      expect(item.score).toEqual(expect.any(Number));
      expect(item.reason).toMatch(/^(personal|popular)/);
      // Neither what the stream saw them buy nor what the caller says they bought.
      expect([...bought.productIds, 'p3b']).not.toContain(item.product_id);
    }
    const invalid = await api('/api/recommendations', {
      customer_id: 'buyer-0',
      count: 0,
      strategy: 'magic',
    });
    expect(invalid.status).toBe(400);
    expect(Object.keys(((await invalid.json()) as { fields: object }).fields).sort()).toEqual([
      'count',
      'strategy',
    ]);
  });

  it('keeps the business rules: in stock only, price band, at most N per category', async () => {
    const [product, [partner = '']] = [...history.partners][0]!;
    const cart = {
      customer_id: 'rules',
      context: { cart: [product] },
      strategy: 'bought_together',
      count: 5,
    };
    expect(ids(await recommend(cart))[0]).toBe(partner);

    await api('/api/catalog/products', { products: [{ product_id: partner, stock: 0 }] });
    expect(ids(await recommend(cart))).not.toContain(partner);
    await api('/api/catalog/products', { products: [{ product_id: partner, stock: 3 }] });
    // Another replica (its own in-memory catalog) sees this one's writes: it is told which products
    // changed and reads those, by id.
    const replicaRedis = new Redis(under.redisUrl!, { keyPrefix: 'recommendation:' });
    const replicaNotices = new ChangeNotices(replicaRedis);
    const replica = new CatalogRepository(under.db, replicaNotices);
    await replica.onModuleInit();
    try {
      expect(await replica.find([partner])).toMatchObject([{ product_id: partner, stock: 3 }]);
      await api('/api/catalog/products', { products: [{ product_id: partner, stock: 0 }] });
      await waitFor('the other replica to see the stock change', async () => {
        const [seen] = await replica.find([partner]);
        return seen?.stock === 0;
      });
      await api('/api/catalog/products', { products: [{ product_id: partner, stock: 3 }] });
      await waitFor('the other replica to see the stock back', async () => {
        const [seen] = await replica.find([partner]);
        return seen?.stock === 3;
      });
    } finally {
      replicaNotices.onApplicationShutdown();
      replicaRedis.disconnect();
    }

    const banded = await recommend({ ...cart, strategy: 'popular', count: 10, min_price: 20, max_price: 40 });
    expect(banded.items.length).toBeGreaterThan(0);
    for (const item of banded.items) expect(item.price).toBeGreaterThanOrEqual(20);
    for (const item of banded.items) expect(item.price).toBeLessThanOrEqual(40);

    const diverse = await recommend({ ...cart, strategy: 'popular', count: 10, max_per_category: 1 });
    const categories = diverse.items.map((item) => item.category);
    expect(new Set(categories).size).toBe(categories.length);
  });

  it('trends within a category over the last hours', async () => {
    const category = 'cat-2';
    await api('/api/catalog/products', {
      products: [{ product_id: 'new-arrival', name: 'New', category, price: 30, stock: 5 }],
    });
    const now = Date.now();
    const fresh: GeneratedEvent[] = Array.from({ length: 10 }, (_, i) => ({
      profileId: `trender-${i}`,
      event: 'Product Added',
      at: now - i * 60_000,
      productIds: ['new-arrival'],
    }));
    await learn(fresh.map((event) => trackEnvelope(event)));
    const answer = await recommend({ customer_id: 'x', strategy: 'trending', category, count: 3 });
    expect(answer.items[0]).toMatchObject({ product_id: 'new-arrival', reason: `trending:${category}` });
    expect(answer.items).toHaveLength(3);
    for (const item of answer.items) expect(item.category).toBe(category);
    // Popularity over the whole history is not swayed as much by one fresh burst.
    const popular = await recommend({ customer_id: 'x', strategy: 'popular', category, count: 1 });
    expect(popular.items[0]!.product_id).not.toBe('new-arrival');
  });

  it('falls back to popular and says so when a strategy has too little data', async () => {
    const cold = await recommend({ customer_id: 'never-seen', strategy: 'personal', count: 3 });
    expect(cold).toMatchObject({
      strategy: 'personal',
      servedBy: 'popular',
      fallback: true,
      fallbackReason: 'no history for this profile; filled with popular',
    });
    expect(cold.items).toHaveLength(3);
    for (const item of cold.items) expect(item.reason).toBe('popular');

    const unknown = await recommend({
      customer_id: 'x',
      context: { cart: ['not-in-any-order'] },
      strategy: 'bought_together',
      count: 2,
    });
    expect(unknown).toMatchObject({ servedBy: 'popular', fallback: true });
    expect(unknown.items).toHaveLength(2);
  });

  it('attaches the campaign strategy to a send intent, flagging a fallback', async () => {
    const campaign: CampaignSpecDto = {
      campaignId: 'cart-reminder',
      name: 'Cart',
      templateId: 'cart',
      recommendation: { strategy: 'bought_together', limit: 3 },
      sendPolicy: { maxPerDay: 0, transactional: false },
    };
    const intent = (profileId: string, properties: Record<string, unknown>) =>
      originEnvelope({
        type: 'campaign.triggered',
        source: 'test-source',
        occurredAt: new Date().toISOString(),
        profileId,
        data: {
          campaign,
          triggerKey: `cart:${profileId}`,
          trigger: { event: 'Product Added', properties },
          profile: { profileId, traits: {}, computed: {}, version: 1 },
        },
      });
    const withCart = intent('shopper-1', { product_id: 'p4a' });
    await publisher.publish(SUBJECTS.enrichment.triggered, withCart);
    const answer = await tap.nextCausedBy<RecommendedSendPayload>(SUBJECTS.recommendation.attached, withCart);
    expect(answer.envelope.data.recommendations.items[0]).toMatchObject({
      product_id: 'p4b',
      reason: 'bought_together:p4a',
    });
    expect(answer.envelope.data.recommendations.fallback).toBeUndefined();

    const empty = intent('shopper-2', {});
    await publisher.publish(SUBJECTS.enrichment.triggered, empty);
    const fallback = await tap.nextCausedBy<RecommendedSendPayload>(SUBJECTS.recommendation.attached, empty);
    expect(fallback.envelope.data.recommendations).toMatchObject({
      strategy: 'bought_together',
      servedBy: 'popular',
      fallback: true,
      fallbackReason: 'no products in hand to pair with; filled with popular',
    });
    expect(fallback.envelope.data.recommendations.items).toHaveLength(3);
  });

  it('feeds clicks and conversions on recommended products back into the signals, once each', async () => {
    const campaign: CampaignSpecDto = {
      campaignId: 'feedback',
      name: 'Feedback',
      templateId: 'feedback',
      recommendation: { strategy: 'bought_together', limit: 1 },
      sendPolicy: { maxPerDay: 0, transactional: false },
    };
    const intent = originEnvelope({
      type: 'campaign.triggered',
      source: 'test-source',
      occurredAt: new Date().toISOString(),
      profileId: 'clicker',
      data: {
        campaign,
        triggerKey: 'cart:clicker',
        trigger: { event: 'Product Added', properties: { product_id: 'p6a' } },
        profile: { profileId: 'clicker', traits: {}, computed: {}, version: 1 },
      },
    });
    await publisher.publish(SUBJECTS.enrichment.triggered, intent);
    const attached = await tap.nextCausedBy<RecommendedSendPayload>(SUBJECTS.recommendation.attached, intent);
    expect(attached.envelope.data.recommendations.items[0]!.product_id).toBe('p6b');
    const popularity = async () => Number(await redis.zscore('recommendation:pop', 'p6b'));
    const before = await popularity();

    const outcome = <T>(type: string, data: T) =>
      originEnvelope({
        type,
        source: 'test-source',
        occurredAt: new Date().toISOString(),
        profileId: 'clicker',
        data,
      });
    const click = outcome('delivery.clicked', {
      campaignId: 'feedback',
      triggerKey: 'cart:clicker',
      url: 'https://shop.example/products/p6b?utm_source=mesh',
    });
    await publisher.publish(SUBJECTS.delivery.clicked, click);
    await publishCopy(under.natsUrl, SUBJECTS.delivery.clicked, click);
    await waitFor('the click counted', async () => (await popularity()) > before);
    await waitFor('the copy settled', () =>
      consumerIsIdle(under.natsUrl, 'DELIVERY', 'recommendation__delivery_clicked'),
    );
    const afterClick = await popularity();
    expect(await redis.zscore('recommendation:hist:clicker', 'p6b')).not.toBeNull();

    await publisher.publish(
      SUBJECTS.delivery.converted,
      outcome('delivery.converted', {
        campaignId: 'feedback',
        triggerKey: 'cart:clicker',
        orderId: 'order-9',
        revenue: 40,
        currency: 'EUR',
      }),
    );
    await waitFor('the conversion counted', async () => (await popularity()) > afterClick);
    // Click weight 2, conversion 4: the click (and its redelivered copy) counted once.
    expect((afterClick - before) * 2).toBeCloseTo((await popularity()) - afterClick, 0);
  });

  it('evaluates each strategy offline on a time split of the history (precision@k, recall@k)', async () => {
    const response = await api('/api/evaluation/strategies', { k: 5, holdout_share: 0.3 });
    expect(response.status).toBe(200);
    const report = (await response.json()) as {
      k: number;
      strategies: { strategy: string; cases: number; precisionAtK: number; recallAtK: number }[];
    };
    const of = (strategy: string) => report.strategies.find((s) => s.strategy === strategy)!;
    expect(report.strategies.map((s) => s.strategy)).toEqual([
      'bought_together',
      'personal',
      'trending',
      'popular',
    ]);
    expect(of('bought_together').cases).toBeGreaterThan(5);
    expect(of('bought_together').recallAtK).toBeGreaterThanOrEqual(0.8);
    expect(of('bought_together').precisionAtK).toBeGreaterThan(5 * of('popular').precisionAtK);
    // The scratch signals are gone.
    expect(await redis.keys('recommendation:eval:*')).toEqual([]);
  });

  it('rebuilds the signals from the stream after Redis is lost, to the same top items', async () => {
    const probes: Record<string, unknown>[] = [
      { customer_id: 'x', strategy: 'popular', count: 10, max_per_category: 10 },
      { customer_id: 'x', strategy: 'popular', category: 'cat-1', count: 5 },
      { customer_id: 'x', strategy: 'trending', category: 'cat-2', count: 5 },
      { customer_id: 'user-buyer-7', strategy: 'personal', count: 5 },
      ...['p0a', 'p5b', 'p9a'].map((id) => ({
        customer_id: 'x',
        strategy: 'bought_together',
        context: { cart: [id] },
        count: 5,
      })),
    ];
    const tops = async () => Promise.all(probes.map(async (probe) => ids(await recommend(probe))));
    const before = await tops();

    await redis.flushdb();
    expect((await recommend(probes[0]!)).fallback).toBe(true);

    const nc = await connect({ servers: under.natsUrl });
    const prefixed = new Redis(under.redisUrl!, { keyPrefix: 'recommendation:' });
    try {
      const report = await rebuildSignals(nc, prefixed, under.db);
      expect(report).toMatchObject({ replayed: history.events.length + 10, skipped: 0 });
    } finally {
      prefixed.disconnect();
      await nc.close();
    }
    expect(await tops()).toEqual(before);
  });

  it('keeps the co-occurrence set of each product bounded, trimming the weakest pairs', async () => {
    const prefixed = new Redis(under.redisUrl!, { keyPrefix: 'bounded:' });
    try {
      const store = new SignalStore(prefixed);
      const at = Date.now() - HOUR;
      const purchase = (n: number, products: string[], profileId?: string) =>
        store.record({
          messageId: `bounded-${n}`,
          ...(profileId ? { profileId } : {}),
          at,
          weight: 5,
          purchase: true,
          products: products.map((id) => ({ id })),
        });
      // One product bought once with each of 3× as many others as a set keeps, and often with one.
      const partners = CO_OCCURRENCE_KEEP * 3;
      for (let i = 0; i < partners; i++) await purchase(i, ['hub', `once-${i}`]);
      for (let i = 0; i < 10; i++) await purchase(partners + i, ['hub', 'mate'], `buyer-${i}`);
      // A profile whose history pairs the hub with more products on the history path.
      for (let i = 0; i < 40; i++) await purchase(partners + 10 + i, [`later-${i}`], 'collector');
      await purchase(partners + 50, ['hub'], 'collector');

      const size = await prefixed.zcard('co:hub');
      expect(size).toBeGreaterThanOrEqual(CO_OCCURRENCE_KEEP);
      expect(size).toBeLessThanOrEqual(CO_OCCURRENCE_KEEP * 1.25);
      expect((await store.together('hub', 1))[0]?.id).toBe('mate');
      expect(await prefixed.zcard('co:once-0')).toBe(1);
    } finally {
      const keys = await redis.keys('bounded:*');
      if (keys.length > 0) await redis.del(...keys);
      prefixed.disconnect();
    }
  });
});
