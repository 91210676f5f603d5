import {
  type DeliveryConvertedPayload,
  type Envelope,
  originEnvelope,
  type ResolvedTrackPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { consumerIsIdle, publishCopy, waitFor } from '@mesh/testing';
import { type CampaignMetrics } from '../src/metrics/metrics-admin.controller.js';
import {
  ADMIN,
  campaignSpec,
  clickLink,
  type DeliveryUnderTest,
  pixelLink,
  PUBLIC_URL,
  renderedEmail,
  startDeliveryUnderTest,
  unsubscribeLink,
} from './delivery-fixture.js';

const HOUR = 3_600_000;
/** delivery's consumers of its own delivery.* events and of orders. */
const METRIC_CONSUMERS = [
  ...['sent', 'opened', 'clicked', 'converted', 'skipped', 'unsubscribed'].map((subject) => ({
    stream: 'DELIVERY',
    durable: `delivery__delivery_${subject}`,
  })),
  { stream: 'IDENTITY', durable: 'delivery__identity_resolved_track' },
];

const rendered = (profileId: string, campaignId: string, variant: string) =>
  renderedEmail(profileId, campaignSpec(campaignId, { variant }), {
    html: '<p><a href="https://shop.example/p/42">Laptop</a></p>',
    text: 'https://shop.example/p/42',
  });

function order(
  profileId: string,
  orderId: string,
  at: Date,
  revenue: number,
): Envelope<ResolvedTrackPayload> {
  return originEnvelope({
    type: 'track',
    source: 'test-source',
    occurredAt: at.toISOString(),
    profileId,
    data: {
      messageId: `m-${orderId}-${Math.random()}`,
      userId: profileId,
      event: 'Order Completed',
      properties: { order_id: orderId, revenue, currency: 'eur', products: [] },
      identifiers: [{ type: 'user_id' as const, value: profileId }],
    },
  });
}

/** identity's announcement that `mergedId` now lives in `survivorId`. */
const mergeOf = (survivorId: string, mergedId: string) =>
  originEnvelope({
    type: 'identity.merged',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    profileId: survivorId,
    data: {
      mergeId: `merge-${survivorId}-${mergedId}`,
      survivorId,
      mergedIds: [mergedId],
      reason: 'shared email',
      evidence: [{ type: 'email' as const, value: `${mergedId}@example.com` }],
    },
  });

describe('delivery: conversions and campaign metrics', () => {
  let delivery: DeliveryUnderTest;

  beforeAll(async () => {
    delivery = await startDeliveryUnderTest({ env: { MESH_PUBLIC_URL: PUBLIC_URL } });
  }, 60_000);
  afterAll(() => delivery?.close());

  const deliver = async (profileId: string, campaignId: string, variant: string) => {
    const sent = await delivery.deliverRendered<{ sendId: string }>(rendered(profileId, campaignId, variant));
    const email = delivery.sink
      .messages()
      .find((received) => received.subject === `${campaignId} for ${profileId}`)!;
    return { email, sendId: sent.envelope.data.sendId, sentAt: new Date(sent.envelope.occurredAt) };
  };
  /** Every delivery.* event seen so far has been handled (touches and metric facts written). */
  const settled = () => delivery.settled('delivery events handled', METRIC_CONSUMERS);
  /** Every identity.merged published so far has been handled. */
  const mergesHandled = () =>
    waitFor('the merges handled', () =>
      consumerIsIdle(delivery.natsUrl, 'IDENTITY', 'delivery__identity_merged'),
    );
  const conversionsOf = (orderId: string) =>
    delivery.tap
      .messages(SUBJECTS.delivery.converted)
      .filter((m) => (m.envelope.data as DeliveryConvertedPayload).orderId === orderId);
  const metrics = async (campaignId: string, query = '') => {
    const response = await fetch(`${delivery.service.url}/admin/campaigns/${campaignId}/metrics${query}`, {
      headers: ADMIN,
    });
    expect(response.status).toBe(200);
    return (await response.json()) as CampaignMetrics;
  };

  it('credits an order to the click within 5 days, once per order, with revenue, campaign and variant', async () => {
    const { email, sendId } = await deliver('p-buyer', 'spring', 'A');
    expect((await fetch(delivery.local(clickLink(email)), { redirect: 'manual' })).status).toBe(302);
    await delivery.tap.next(
      SUBJECTS.delivery.clicked,
      (m) => (m.envelope.data as { sendId: string }).sendId === sendId,
    );
    await settled();

    const placed = order('p-buyer', 'o-1001', new Date(Date.now() + 2 * 24 * HOUR), 99.5);
    await delivery.publisher.publish(SUBJECTS.identity.resolved.track, placed);
    const converted = await delivery.tap.next<DeliveryConvertedPayload>(
      SUBJECTS.delivery.converted,
      (m) => m.envelope.data.orderId === 'o-1001',
    );
    expect(converted.envelope.profileId).toBe('p-buyer');
    expect(converted.envelope.data).toMatchObject({
      campaignId: 'spring',
      variant: 'A',
      sendId,
      orderId: 'o-1001',
      revenue: 99.5,
      currency: 'EUR',
      touch: 'click',
    });
    expect(converted.envelope.data.clickedAt).toBeDefined();

    // The same message redelivered, and the same order reported again by another message: one conversion.
    await publishCopy(delivery.natsUrl, SUBJECTS.identity.resolved.track, placed);
    await delivery.publisher.publish(
      SUBJECTS.identity.resolved.track,
      order('p-buyer', 'o-1001', new Date(Date.now() + 2 * 24 * HOUR), 99.5),
    );
    await settled();
    expect(new Set(conversionsOf('o-1001').map((m) => m.envelope.id)).size).toBe(1);
  });

  it('credits an open only within a day, and nothing without a touch', async () => {
    const { email, sendId } = await deliver('p-opener', 'spring', 'B');
    await fetch(delivery.local(pixelLink(email)));
    await delivery.tap.next(
      SUBJECTS.delivery.opened,
      (m) => (m.envelope.data as { sendId: string }).sendId === sendId,
    );
    await settled();
    // Ordered by profile: the late order is handled before the timely one.
    await delivery.publisher.publish(
      SUBJECTS.identity.resolved.track,
      order('p-opener', 'o-late', new Date(Date.now() + 30 * HOUR), 10),
    );
    await delivery.publisher.publish(
      SUBJECTS.identity.resolved.track,
      order('p-nobody', 'o-none', new Date(), 10),
    );
    await delivery.publisher.publish(
      SUBJECTS.identity.resolved.track,
      order('p-opener', 'o-soon', new Date(Date.now() + 2 * HOUR), 20),
    );
    const soon = await delivery.tap.next<DeliveryConvertedPayload>(
      SUBJECTS.delivery.converted,
      (m) => m.envelope.data.orderId === 'o-soon',
    );
    expect(soon.envelope.data).toMatchObject({
      campaignId: 'spring',
      variant: 'B',
      touch: 'open',
      revenue: 20,
    });
    await settled();
    expect(conversionsOf('o-late')).toEqual([]);
    expect(conversionsOf('o-none')).toEqual([]);
  });

  it("credits the survivor's order to a click of a profile merged into it", async () => {
    const { email, sendId } = await deliver('p-before-merge', 'spring', 'A');
    await fetch(delivery.local(clickLink(email)), { redirect: 'manual' });
    await delivery.tap.next(
      SUBJECTS.delivery.clicked,
      (m) => (m.envelope.data as { sendId: string }).sendId === sendId,
    );
    await settled();
    await delivery.publisher.publish(SUBJECTS.identity.merged, mergeOf('p-survivor', 'p-before-merge'));
    await mergesHandled();
    await delivery.publisher.publish(
      SUBJECTS.identity.resolved.track,
      order('p-survivor', 'o-merged', new Date(Date.now() + HOUR), 5),
    );
    const converted = await delivery.tap.next<DeliveryConvertedPayload>(
      SUBJECTS.delivery.converted,
      (m) => m.envelope.data.orderId === 'o-merged',
    );
    expect(converted.envelope.profileId).toBe('p-survivor');
    expect(converted.envelope.data).toMatchObject({ sendId, touch: 'click' });
  });

  it('credits an order placed before a merge, when the merge brings the click, in either direction, once', async () => {
    const clicked = async (profileId: string) => {
      const { email, sendId } = await deliver(profileId, 'autumn', 'A');
      await fetch(delivery.local(clickLink(email)), { redirect: 'manual' });
      await delivery.tap.next(
        SUBJECTS.delivery.clicked,
        (m) => (m.envelope.data as { sendId: string }).sendId === sendId,
      );
      return sendId;
    };
    // The emailed person clicks, then orders on another device, as another profile: nothing to credit yet.
    const firstSend = await clicked('p-mail-1');
    const secondSend = await clicked('p-mail-2');
    await settled();
    for (const [profileId, orderId] of [
      ['p-shop-1', 'o-cross-1'],
      ['p-shop-2', 'o-cross-2'],
    ] as const)
      await delivery.publisher.publish(
        SUBJECTS.identity.resolved.track,
        order(profileId, orderId, new Date(Date.now() + HOUR), 42),
      );
    await settled();
    expect(conversionsOf('o-cross-1')).toEqual([]);

    // The ordering profile survives (the click moves to it), or is merged away (its order moves).
    const first = mergeOf('p-shop-1', 'p-mail-1');
    await delivery.publisher.publish(SUBJECTS.identity.merged, first);
    await delivery.publisher.publish(SUBJECTS.identity.merged, mergeOf('p-mail-2', 'p-shop-2'));
    const credited = await Promise.all(
      ['o-cross-1', 'o-cross-2'].map((orderId) =>
        delivery.tap.next<DeliveryConvertedPayload>(
          SUBJECTS.delivery.converted,
          (m) => m.envelope.data.orderId === orderId,
        ),
      ),
    );
    expect(credited.map((m) => m.envelope.profileId)).toEqual(['p-shop-1', 'p-mail-2']);
    expect(credited.map((m) => m.envelope.data)).toEqual([
      expect.objectContaining({ sendId: firstSend, touch: 'click', revenue: 42 }),
      expect.objectContaining({ sendId: secondSend, touch: 'click', revenue: 42 }),
    ]);

    // The merge redelivered: the order converts once.
    await publishCopy(delivery.natsUrl, SUBJECTS.identity.merged, first);
    await mergesHandled();
    await settled();
    expect(new Set(conversionsOf('o-cross-1').map((m) => m.envelope.id)).size).toBe(1);
  });

  it('credits to the survivor an order reported late for a profile already merged away', async () => {
    const { email, sendId } = await deliver('p-mail-late', 'autumn', 'B');
    await fetch(delivery.local(clickLink(email)), { redirect: 'manual' });
    await delivery.tap.next(
      SUBJECTS.delivery.clicked,
      (m) => (m.envelope.data as { sendId: string }).sendId === sendId,
    );
    await settled();
    await delivery.publisher.publish(SUBJECTS.identity.merged, mergeOf('p-mail-late', 'p-shop-late'));
    await mergesHandled();
    // Resolved to the merged-away profile before the merge, handled after it.
    await delivery.publisher.publish(
      SUBJECTS.identity.resolved.track,
      order('p-shop-late', 'o-late-merged', new Date(Date.now() + HOUR), 7),
    );
    const converted = await delivery.tap.next<DeliveryConvertedPayload>(
      SUBJECTS.delivery.converted,
      (m) => m.envelope.data.orderId === 'o-late-merged',
    );
    expect(converted.envelope.profileId).toBe('p-mail-late');
    expect(converted.envelope.data).toMatchObject({ sendId, touch: 'click', revenue: 7 });
  });

  it('reports per campaign, variant and bucket from idempotent counters; redelivered events count once', async () => {
    const { email } = await deliver('p-metrics', 'summer', 'A');
    await deliver('p-metrics-2', 'summer', 'B');
    // Two opens, a click twice (unique counts), an unsubscribe, a suppressed send (skip reason).
    await fetch(delivery.local(pixelLink(email)));
    await fetch(delivery.local(pixelLink(email)));
    await fetch(delivery.local(clickLink(email)), { redirect: 'manual' });
    await fetch(delivery.local(clickLink(email)), { redirect: 'manual' });
    const unsubscribe = unsubscribeLink(email);
    expect(
      (
        await fetch(delivery.local(unsubscribe), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'List-Unsubscribe=One-Click',
        })
      ).status,
    ).toBe(200);
    const again = rendered('p-metrics', 'summer', 'A');
    const skipped = originEnvelope({ ...again, data: { ...again.data, triggerKey: 't-2' } });
    await delivery.publishRendered(skipped);
    await delivery.tap.nextCausedBy(SUBJECTS.delivery.skipped, skipped);
    await settled();
    await delivery.publisher.publish(
      SUBJECTS.identity.resolved.track,
      order('p-metrics', 'o-2001', new Date(Date.now() + HOUR), 30.25),
    );
    await delivery.tap.next(
      SUBJECTS.delivery.converted,
      (m) => (m.envelope.data as { orderId: string }).orderId === 'o-2001',
    );
    await settled();

    const before = await metrics('summer', '?granularity=hour');
    // Every delivery event seen so far, redelivered: the figures do not move.
    for (const message of delivery.tap.messages().filter((m) => m.subject.startsWith('delivery.'))) {
      if ((message.envelope.data as { campaignId?: string }).campaignId === 'summer')
        await publishCopy(delivery.natsUrl, message.subject, message.envelope);
    }
    await settled();
    const after = await metrics('summer', '?granularity=hour');
    expect(after).toEqual(before);

    expect(after.totals).toMatchObject({
      sent: 2,
      delivered: 2,
      bounced: 0,
      opened: 1,
      clicked: 1,
      ctr: 0.5,
      clickToOpen: 1,
      conversionRate: 0.5,
      unsubscribed: 1,
      converted: 1,
      revenue: { EUR: 30.25 },
      skipped: { 'suppressed/unsubscribe': 1 },
    });
    // Totals next to the unique counts (delivery announces one open per email and minute, one click per URL and second).
    expect(after.totals.opens).toBeGreaterThanOrEqual(1);
    expect(after.totals.clicks).toBeGreaterThanOrEqual(1);
    const [a, b] = after.variants;
    expect(a).toMatchObject({ variant: 'A', totals: { sent: 1, opened: 1, clicked: 1, converted: 1 } });
    expect(b).toMatchObject({ variant: 'B', totals: { sent: 1, opened: 0, clicked: 0, converted: 0 } });
    expect(a!.buckets[0]!.start).toMatch(/T\d{2}:00:00\.000Z$/);
    const daily = await metrics('summer');
    expect(daily.granularity).toBe('day');
    expect(daily.variants[0]!.buckets[0]!.start).toMatch(/T00:00:00\.000Z$/);

    const unauthorized = await fetch(`${delivery.service.url}/admin/campaigns/summer/metrics`);
    expect(unauthorized.status).toBe(401);
    const invalid = await fetch(`${delivery.service.url}/admin/campaigns/summer/metrics?granularity=week`, {
      headers: ADMIN,
    });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(await invalid.json())).toContain('granularity');
  });
});
