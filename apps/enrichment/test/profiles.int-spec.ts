import { randomUUID } from 'node:crypto';
import {
  type DeliveryOpenedPayload,
  type ProfileSplitPayload,
  type ProfilesMergedPayload,
  originEnvelope,
  type ProfileUpdatedPayload,
  type SegmentChangedPayload,
  type SendIntentPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { consumerIsIdle, publishCopy, waitFor } from '@mesh/testing';
import { Redis } from 'ioredis';
import { type ProfileView } from '../src/profiles/profiles.controller.js';
import { ReviewSegmentsUseCase } from '../src/segments/review-segments.usecase.js';
import { EnrichmentFixture, example, identify, track } from './enrichment-fixture.js';

const DAY = 86_400_000;

describe('enrichment profiles and segments', () => {
  let mesh: EnrichmentFixture;

  beforeAll(async () => {
    mesh = await EnrichmentFixture.start({ RFM_WINDOW_DAYS: '90', RFM_WINDOWS_DAYS: '30, 365' });
  }, 60_000);
  afterAll(async () => {
    await mesh?.close();
  });

  const settled = () =>
    waitFor(
      'enrichment to settle every resolved event',
      () => consumerIsIdle(mesh.infra.natsUrl!, 'IDENTITY', 'enrichment__identity_resolved_any'),
      60_000,
    );
  const profile = async (profileId: string) => {
    const response = await mesh.api<ProfileView>('GET', `/api/profiles/${profileId}`);
    expect(response.status).toBe(200);
    return response.body;
  };
  const segmentChanges = (profileId: string, segmentId: string) =>
    mesh.tap
      .messages(SUBJECTS.enrichment.segmentChanged)
      .filter(
        (message) =>
          message.envelope.profileId === profileId &&
          (message.envelope.data as SegmentChangedPayload).segmentId === segmentId,
      )
      .map((message) => (message.envelope.data as SegmentChangedPayload).member);
  const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

  it('keeps the newest value of each trait by event time, even when an older event arrives later', async () => {
    const newer = identify('ooo', { plan: 'gold', 'address.city': 'Lyon' }, ago(1));
    const older = identify('ooo', { plan: 'free', nickname: 'o' }, ago(3));
    await mesh.publisher.publish(SUBJECTS.identity.resolved.identify, newer);
    await mesh.publisher.publish(SUBJECTS.identity.resolved.identify, older);
    const update = await mesh.tap.nextCausedBy<ProfileUpdatedPayload>(
      SUBJECTS.enrichment.profileUpdated,
      older,
    );
    expect(update.envelope.data.changed).toContain('nickname');
    expect(update.envelope.data.changed).not.toContain('plan');
    expect((await profile('ooo')).traits).toEqual({ plan: 'gold', 'address.city': 'Lyon', nickname: 'o' });
    expect((await profile('ooo')).version).toBe(2);
    expect((await mesh.api('GET', '/api/profiles/nobody')).status).toBe(404);
    expect((await mesh.api('GET', '/api/profiles/ooo', undefined, '')).status).toBe(401);
  });

  it('computes RFM, lifetime value and purchased category from a purchase history, and announces what changed', async () => {
    const orders = [
      { days: 200, id: 'h1', revenue: 400 },
      { days: 40, id: 'h2', revenue: 120 },
      { days: 5, id: 'h3', revenue: 80 },
    ];
    const envelopes = orders.map((order) =>
      track(
        'history',
        'Order Completed',
        {
          order_id: order.id,
          revenue: order.revenue,
          currency: 'EUR',
          products: [{ product_id: `p-${order.id}`, category: 'Coffee', price: order.revenue }],
        },
        { occurredAt: ago(order.days) },
      ),
    );
    for (const envelope of envelopes)
      await mesh.publisher.publish(SUBJECTS.identity.resolved.track, envelope);
    const last = envelopes[envelopes.length - 1]!;
    const update = await mesh.tap.nextCausedBy<ProfileUpdatedPayload>(
      SUBJECTS.enrichment.profileUpdated,
      last,
    );
    expect(update.envelope.data.changed).toEqual(
      expect.arrayContaining(['recency_days', 'frequency', 'monetary', 'lifetime_value', 'orders_count']),
    );
    expect((await profile('history')).computed).toMatchObject({
      recency_days: 5,
      frequency: 2,
      monetary: 200,
      rfm_window_days: 90,
      r_score: 5,
      f_score: 2,
      m_score: 2,
      lifetime_value: 600,
      orders_count: 3,
      currency: 'EUR',
      purchased_category: 'Coffee',
      cart: { items: [], value: 0 },
      rfm_windows: {
        '30d': { days: 30, frequency: 1, monetary: 80, f_score: 1, m_score: 1 },
        '90d': { days: 90, frequency: 2, monetary: 200, f_score: 2, m_score: 2 },
        '365d': { days: 365, frequency: 3, monetary: 600, f_score: 3, m_score: 4 },
      },
    });
  });

  it('scores engagement from delivery opens, once per message even when redelivered', async () => {
    await mesh.publisher.publish(
      SUBJECTS.identity.resolved.identify,
      identify('reader', { email: 'r@example.com' }),
    );
    const opened = originEnvelope<DeliveryOpenedPayload>({
      type: 'delivery.opened',
      source: 'delivery',
      occurredAt: new Date().toISOString(),
      profileId: 'reader',
      data: { campaignId: 'welcome', triggerKey: `event:${randomUUID()}` },
    });
    await mesh.publisher.publish(SUBJECTS.delivery.opened, opened);
    await mesh.tap.nextCausedBy(SUBJECTS.enrichment.profileUpdated, opened);
    await publishCopy(mesh.infra.natsUrl!, SUBJECTS.delivery.opened, opened);
    await waitFor('the copy to be settled', () =>
      consumerIsIdle(mesh.infra.natsUrl!, 'DELIVERY', 'enrichment__delivery_opened'),
    );
    const { computed } = await profile('reader');
    expect(computed.engagement_score).toBeCloseTo(1, 2);
    expect(computed.last_open_at).toBe(opened.occurredAt);
  });

  it('segments: back-fills a new segment, then moves profiles in and out as events arrive', async () => {
    for (const [profileId, plan] of [
      ['seg-a', 'gold'],
      ['seg-b', 'free'],
      ['seg-c', 'gold'],
    ] as const) {
      await mesh.publisher.publish(SUBJECTS.identity.resolved.identify, identify(profileId, { tier: plan }));
    }
    await settled();
    const invalid = await mesh.api<{ fields: Record<string, string[]> }>('POST', '/api/segments', {
      segmentId: 'bad',
      name: 'Bad',
      rule: { attr: 'tier', op: 'eq' },
    });
    expect(invalid.status).toBe(400);
    expect(Object.keys(invalid.body.fields)).toEqual(['rule']);

    const created = await mesh.api('POST', '/api/segments', {
      segmentId: 'gold-buyers',
      name: 'Gold tier, or two orders in 30 days',
      rule: {
        or: [
          { attr: 'traits.tier', op: 'eq', value: 'gold' },
          { event: 'Order Completed', withinDays: 30, op: 'gte', value: 2 },
        ],
      },
    });
    expect(created.status).toBe(201);
    await waitFor('the back-fill', async () => {
      const count = await mesh.api<{ count: number }>('GET', '/api/segments/gold-buyers/count');
      return count.body.count === 2;
    });
    const members = await mesh.api<{ profileIds: string[] }>('GET', '/api/segments/gold-buyers/members');
    expect(members.body.profileIds).toEqual(['seg-a', 'seg-c']);
    expect(segmentChanges('seg-a', 'gold-buyers')).toEqual([true]);

    // seg-b enters with two orders; seg-a leaves when its plan changes.
    await mesh.publisher.publish(
      SUBJECTS.identity.resolved.track,
      track('seg-b', 'Order Completed', { order_id: 'b1' }),
    );
    await mesh.publisher.publish(
      SUBJECTS.identity.resolved.track,
      track('seg-b', 'Order Completed', { order_id: 'b2' }),
    );
    await mesh.publisher.publish(SUBJECTS.identity.resolved.identify, identify('seg-a', { tier: 'free' }));
    await settled();
    expect(segmentChanges('seg-b', 'gold-buyers')).toEqual([true]);
    expect(segmentChanges('seg-a', 'gold-buyers')).toEqual([true, false]);
    expect((await profile('seg-b')).segments).toEqual(['gold-buyers']);
    const after = await mesh.api<{ profileIds: string[] }>(
      'GET',
      '/api/segments/gold-buyers/members?limit=1',
    );
    expect(after.body).toEqual({ segmentId: 'gold-buyers', profileIds: ['seg-b'], next: 'seg-b' });
  });

  it('merges fold counts, revenue and newest traits into the survivor; a split rebuilds both', async () => {
    const events = [
      identify('keep', { email: 'old@example.com', first_name: 'Kim' }, ago(10)),
      identify('gone', { email: 'new@example.com', city: 'Oslo' }, ago(2)),
    ];
    for (const envelope of events)
      await mesh.publisher.publish(SUBJECTS.identity.resolved.identify, envelope);
    const orders = [
      track(
        'keep',
        'Order Completed',
        { order_id: 'k1', revenue: 50, currency: 'EUR' },
        { occurredAt: ago(20) },
      ),
      track(
        'gone',
        'Order Completed',
        { order_id: 'g1', revenue: 70, currency: 'EUR' },
        { occurredAt: ago(3) },
      ),
      track('gone', 'Product Viewed', { product_id: 'sku-x', category: 'Tea' }, { occurredAt: ago(1) }),
    ];
    for (const envelope of orders) await mesh.publisher.publish(SUBJECTS.identity.resolved.track, envelope);
    await settled();

    const merged = originEnvelope<ProfilesMergedPayload>({
      type: 'identity.merged',
      source: 'identity',
      occurredAt: new Date().toISOString(),
      profileId: 'keep',
      data: {
        mergeId: 'merge-1',
        survivorId: 'keep',
        mergedIds: ['gone'],
        reason: 'same email',
        evidence: [],
      },
    });
    await mesh.publisher.publish(SUBJECTS.identity.merged, merged);
    await mesh.tap.nextCausedBy(SUBJECTS.enrichment.profileUpdated, merged);
    await publishCopy(mesh.infra.natsUrl!, SUBJECTS.identity.merged, merged);
    await waitFor('the copy to be settled', () =>
      consumerIsIdle(mesh.infra.natsUrl!, 'IDENTITY', 'enrichment__identity_merged'),
    );
    const survivor = await profile('keep');
    expect(survivor.traits).toEqual({ email: 'new@example.com', first_name: 'Kim', city: 'Oslo' });
    expect(survivor.computed).toMatchObject({
      orders_count: 2,
      lifetime_value: 120,
      recency_days: 3,
      last_order_at: orders[1]!.occurredAt,
      last_seen_at: orders[2]!.occurredAt,
      top_viewed_categories: ['Tea'],
    });
    expect((await mesh.api('GET', '/api/profiles/gone')).status).toBe(404);

    // After the merge the survivor orders again: the split re-counts that order to it.
    const later = track(
      'keep',
      'Order Completed',
      { order_id: 'k2', revenue: 30, currency: 'EUR', products: [{ product_id: 'sku-k', category: 'Mugs' }] },
      { occurredAt: ago(0) },
    );
    await mesh.publisher.publish(SUBJECTS.identity.resolved.track, later);
    await mesh.tap.nextCausedBy(SUBJECTS.enrichment.profileUpdated, later);
    expect((await profile('keep')).computed).toMatchObject({ orders_count: 3, lifetime_value: 150 });

    const split = originEnvelope<ProfileSplitPayload>({
      type: 'identity.split',
      source: 'identity',
      occurredAt: new Date().toISOString(),
      profileId: 'keep',
      data: { mergeId: 'merge-1', survivorId: 'keep', restoredIds: ['gone'] },
    });
    await mesh.publisher.publish(SUBJECTS.identity.split, split);
    await waitFor(
      'both profiles rebuilt',
      () => mesh.tap.causedBy(SUBJECTS.enrichment.profileUpdated, split).length === 2,
    );
    expect(await profile('keep')).toMatchObject({
      traits: { email: 'old@example.com', first_name: 'Kim' },
      computed: {
        orders_count: 2,
        lifetime_value: 80,
        recency_days: 0,
        last_order_at: later.occurredAt,
        purchased_category: 'Mugs',
      },
    });
    expect((await profile('keep')).computed.top_viewed_categories).toBeUndefined();
    expect(await profile('gone')).toMatchObject({
      traits: { email: 'new@example.com', city: 'Oslo' },
      computed: { orders_count: 1, lifetime_value: 70 },
    });
  });

  it('broadcasts a campaign to its segment, paged and throttled, once per member', async () => {
    const segment = await mesh.api('POST', '/api/segments', {
      segmentId: 'newsletter',
      name: 'Newsletter readers',
      rule: { attr: 'traits.newsletter', op: 'eq', value: true },
    });
    expect(segment.status).toBe(201);
    const readers = Array.from({ length: 12 }, (_, index) => `reader-${String(index).padStart(2, '0')}`);
    for (const profileId of [...readers, 'not-a-reader']) {
      const newsletter = profileId !== 'not-a-reader';
      await mesh.publisher.publish(SUBJECTS.identity.resolved.identify, identify(profileId, { newsletter }));
    }
    await settled();
    const { trigger: _trigger, ...welcome } = example('welcome');
    const campaign = { ...welcome, campaignId: 'weekly', audience: { segmentId: 'newsletter' } };
    expect((await mesh.api('POST', '/api/campaigns', campaign)).status).toBe(201);

    const started = performance.now();
    const accepted = await mesh.api('POST', '/api/campaigns/weekly/broadcasts', {
      broadcastId: 'weekly-1',
      ratePerSecond: 20,
    });
    expect(accepted.status).toBe(202);
    await waitFor('the broadcast to finish', async () => {
      const status = await mesh.api<{ status: string }>('GET', '/api/campaigns/weekly/broadcasts/weekly-1');
      return status.body.status === 'done';
    });
    // 12 intents at 20 a second: the last one no sooner than 11/20 s after the first.
    expect(performance.now() - started).toBeGreaterThan(500);
    const intents = mesh.tap
      .messages(SUBJECTS.enrichment.triggered)
      .map((message) => message.envelope)
      .filter((envelope) => (envelope.data as SendIntentPayload).triggerKey === 'broadcast:weekly-1');
    expect(intents.map((envelope) => envelope.profileId).sort()).toEqual(readers);
    expect(
      (await mesh.api('POST', '/api/campaigns/weekly/broadcasts', { broadcastId: 'weekly-1' })).status,
    ).toBe(409);
  });

  it('classifies the email domain offline (free-mail or a company) and caches the answer', async () => {
    await mesh.publisher.publish(
      SUBJECTS.identity.resolved.identify,
      identify('free-mailer', { email: 'ann@Gmail.com' }),
    );
    await mesh.publisher.publish(
      SUBJECTS.identity.resolved.identify,
      identify('employee', { email: 'bo@acme.io' }),
    );
    await settled();
    expect((await profile('free-mailer')).computed.third_party).toEqual({
      email_domain: { domain: 'gmail.com', kind: 'free' },
    });
    expect((await profile('employee')).computed.third_party).toEqual({
      email_domain: { domain: 'acme.io', kind: 'company', company_domain: 'acme.io' },
    });
    const redis = new Redis(mesh.infra.redisUrl!);
    try {
      expect(await redis.ttl('enrichment:third-party:email_domain:acme.io')).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it('publishes an OpenAPI document whose every GET path answers', async () => {
    const response = await fetch(`${mesh.service.url}/api/docs/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, { get?: unknown }> };
    expect(document.openapi).toBe('3.1.0');
    const known: Record<string, string> = {
      profileId: 'keep',
      segmentId: 'newsletter',
      campaignId: 'weekly',
      broadcastId: 'weekly-1',
    };
    const gets = Object.entries(document.paths).filter(([, operations]) => operations.get);
    expect(gets.length).toBeGreaterThanOrEqual(8);
    for (const [path] of gets) {
      const concrete = path.replace(/\{(\w+)\}/g, (_, name: string) => known[name]!);
      expect([path, (await mesh.api('GET', concrete)).status]).toEqual([path, 200]);
    }
  });
  // Last: it moves the service's clock 32 days on.
  it('time alone moves a profile out of "ordered in the last 30 days" (and into "lapsed"), after a restart, once', async () => {
    for (const body of [
      {
        segmentId: 'recent-buyers',
        name: 'Ordered in the last 30 days',
        rule: { event: 'Order Completed', withinDays: 30 },
      },
      {
        segmentId: 'lapsed-buyers',
        name: 'Ordered before, not in the last 30 days',
        rule: {
          and: [
            { attr: 'computed.orders_count', op: 'gte', value: 1 },
            { attr: 'computed.recency_days', op: 'gt', value: 30 },
          ],
        },
      },
    ])
      expect((await mesh.api('POST', '/api/segments', body)).status).toBe(201);
    const order = track('lapsing', 'Order Completed', { order_id: 'l1', revenue: 30, currency: 'EUR' });
    await mesh.publisher.publish(SUBJECTS.identity.resolved.track, order);
    await mesh.tap.nextCausedBy(SUBJECTS.enrichment.profileUpdated, order);
    expect((await profile('lapsing')).segments).toEqual(['recent-buyers']);
    const redis = new Redis(mesh.infra.redisUrl!);
    let due: string | null;
    try {
      due = await redis.zscore('enrichment:segment-reviews:due', 'lapsing');
    } finally {
      redis.disconnect();
    }
    const day = order.occurredAt.slice(0, 10);
    expect(Number(due)).toBe(Date.parse(`${day}T00:00:00.000Z`) + 31 * DAY);

    const before = mesh.clock.now();
    await mesh.restart();
    mesh.clock.advance(before - mesh.clock.now() + 32 * DAY);
    await waitFor('the profile to leave by time alone', () =>
      segmentChanges('lapsing', 'recent-buyers').includes(false),
    );
    await waitFor('the profile to enter lapsed', () =>
      segmentChanges('lapsing', 'lapsed-buyers').includes(true),
    );
    expect((await profile('lapsing')).segments).toEqual(['lapsed-buyers']);
    expect((await profile('lapsing')).computed.recency_days).toBe(32);

    // A review run again (a crash before its claim was released) announces the same ids: one exit kept.
    const review = { profileId: 'lapsing', dueAt: Number(due) };
    await mesh.service.app.get(ReviewSegmentsUseCase).execute(review);
    const exits = mesh.tap
      .messages(SUBJECTS.enrichment.segmentChanged)
      .filter((message) => message.envelope.profileId === 'lapsing')
      .filter((message) => !(message.envelope.data as SegmentChangedPayload).member);
    expect(new Set(exits.map((message) => message.envelope.id)).size).toBe(1);
    expect((await profile('lapsing')).segments).toEqual(['lapsed-buyers']);
  }, 90_000);
});
