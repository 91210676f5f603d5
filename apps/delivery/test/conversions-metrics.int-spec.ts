import {
  type CampaignSpecDto,
  type DeliveryConvertedPayload,
  type Envelope,
  originEnvelope,
  type RenderedEmailPayload,
  type ResolvedTrackPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { type MessagePublisher } from '@mesh/messaging';
import {
  consumerIsIdle,
  type MessageTap,
  publishCopy,
  type ReceivedEmail,
  type ServiceUnderTest,
  SmtpSink,
  startServiceUnderTest,
  waitFor,
} from '@mesh/testing';
import { deliverySpec } from '../src/delivery.app.js';
import { type CampaignMetrics } from '../src/metrics/metrics-admin.controller.js';

const PUBLIC_URL = 'https://mesh.shop.example';
const ADMIN = { authorization: 'Bearer delivery-test-admin-token' };
const HOUR = 3_600_000;

function campaign(campaignId: string, variant: string): CampaignSpecDto {
  return {
    campaignId,
    name: campaignId,
    templateId: campaignId,
    variant,
    recommendation: { strategy: 'none', limit: 0 },
    sendPolicy: { maxPerDay: 0, transactional: false },
  };
}

function rendered(profileId: string, campaignId: string, variant: string): Envelope<RenderedEmailPayload> {
  return originEnvelope({
    type: 'email.rendered',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    profileId,
    data: {
      campaign: campaign(campaignId, variant),
      triggerKey: 't-1',
      template: { id: campaignId, version: 1 },
      to: `${profileId}@example.com`,
      subject: `${campaignId} for ${profileId}`,
      html: '<p><a href="https://shop.example/p/42">Laptop</a></p>',
      text: 'https://shop.example/p/42',
    },
  });
}

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

describe('delivery: conversions and campaign metrics', () => {
  let under: ServiceUnderTest;
  let sink: SmtpSink;
  let publisher: MessagePublisher;
  let tap: MessageTap;

  beforeAll(async () => {
    sink = new SmtpSink();
    const smtpPort = await sink.start();
    under = await startServiceUnderTest({
      name: 'delivery',
      spec: deliverySpec,
      redis: true,
      tap: '>',
      env: { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, MESH_PUBLIC_URL: PUBLIC_URL },
    });
    ({ publisher, tap } = under);
  }, 60_000);
  afterAll(async () => {
    await under?.close();
    await sink?.stop();
  });

  const deliver = async (profileId: string, campaignId: string, variant: string) => {
    const input = rendered(profileId, campaignId, variant);
    await publisher.publish(SUBJECTS.renderer.rendered, input);
    const sent = await tap.nextCausedBy<{ sendId: string }>(SUBJECTS.delivery.sent, input);
    const email = sink.messages().find((received) => received.subject === `${campaignId} for ${profileId}`)!;
    return { email, sendId: sent.envelope.data.sendId, sentAt: new Date(sent.envelope.occurredAt) };
  };
  const local = (url: string) => url.replace(PUBLIC_URL, under.service.url);
  const clickLink = (email: ReceivedEmail) => /href="([^"]+\/t\/c\/[^"]+)"/.exec(email.html)![1]!;
  const pixelLink = (email: ReceivedEmail) => /src="([^"]+\/t\/o\/[^"]+)"/.exec(email.html)![1]!;
  /** Every delivery.* event seen so far has been handled (touches and metric facts written). */
  const settled = () =>
    waitFor('delivery events handled', async () => {
      for (const subject of ['sent', 'opened', 'clicked', 'converted', 'skipped', 'unsubscribed']) {
        if (!(await consumerIsIdle(under.natsUrl, 'DELIVERY', `delivery__delivery_${subject}`))) return false;
      }
      return consumerIsIdle(under.natsUrl, 'IDENTITY', 'delivery__identity_resolved_track');
    });
  const conversionsOf = (orderId: string) =>
    tap
      .messages(SUBJECTS.delivery.converted)
      .filter((m) => (m.envelope.data as DeliveryConvertedPayload).orderId === orderId);
  const metrics = async (campaignId: string, query = '') => {
    const response = await fetch(`${under.service.url}/admin/campaigns/${campaignId}/metrics${query}`, {
      headers: ADMIN,
    });
    expect(response.status).toBe(200);
    return (await response.json()) as CampaignMetrics;
  };

  it('credits an order to the click within 5 days, once per order, with revenue, campaign and variant', async () => {
    const { email, sendId } = await deliver('p-buyer', 'spring', 'A');
    expect((await fetch(local(clickLink(email)), { redirect: 'manual' })).status).toBe(302);
    await tap.next(
      SUBJECTS.delivery.clicked,
      (m) => (m.envelope.data as { sendId: string }).sendId === sendId,
    );
    await settled();

    const placed = order('p-buyer', 'o-1001', new Date(Date.now() + 2 * 24 * HOUR), 99.5);
    await publisher.publish(SUBJECTS.identity.resolved.track, placed);
    const converted = await tap.next<DeliveryConvertedPayload>(
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
    await publishCopy(under.natsUrl, SUBJECTS.identity.resolved.track, placed);
    await publisher.publish(
      SUBJECTS.identity.resolved.track,
      order('p-buyer', 'o-1001', new Date(Date.now() + 2 * 24 * HOUR), 99.5),
    );
    await settled();
    expect(new Set(conversionsOf('o-1001').map((m) => m.envelope.id)).size).toBe(1);
  });

  it('credits an open only within a day, and nothing without a touch', async () => {
    const { email, sendId } = await deliver('p-opener', 'spring', 'B');
    await fetch(local(pixelLink(email)));
    await tap.next(
      SUBJECTS.delivery.opened,
      (m) => (m.envelope.data as { sendId: string }).sendId === sendId,
    );
    await settled();
    // Ordered by profile: the late order is handled before the timely one.
    await publisher.publish(
      SUBJECTS.identity.resolved.track,
      order('p-opener', 'o-late', new Date(Date.now() + 30 * HOUR), 10),
    );
    await publisher.publish(SUBJECTS.identity.resolved.track, order('p-nobody', 'o-none', new Date(), 10));
    await publisher.publish(
      SUBJECTS.identity.resolved.track,
      order('p-opener', 'o-soon', new Date(Date.now() + 2 * HOUR), 20),
    );
    const soon = await tap.next<DeliveryConvertedPayload>(
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
    await fetch(local(clickLink(email)), { redirect: 'manual' });
    await tap.next(
      SUBJECTS.delivery.clicked,
      (m) => (m.envelope.data as { sendId: string }).sendId === sendId,
    );
    await settled();
    await publisher.publish(
      SUBJECTS.identity.merged,
      originEnvelope({
        type: 'identity.merged',
        source: 'test-source',
        occurredAt: new Date().toISOString(),
        profileId: 'p-survivor',
        data: {
          mergeId: 'merge-1',
          survivorId: 'p-survivor',
          mergedIds: ['p-before-merge'],
          reason: 'shared email',
          evidence: [{ type: 'email' as const, value: 'p-before-merge@example.com' }],
        },
      }),
    );
    await waitFor('the merge handled', () =>
      consumerIsIdle(under.natsUrl, 'IDENTITY', 'delivery__identity_merged'),
    );
    await publisher.publish(
      SUBJECTS.identity.resolved.track,
      order('p-survivor', 'o-merged', new Date(Date.now() + HOUR), 5),
    );
    const converted = await tap.next<DeliveryConvertedPayload>(
      SUBJECTS.delivery.converted,
      (m) => m.envelope.data.orderId === 'o-merged',
    );
    expect(converted.envelope.profileId).toBe('p-survivor');
    expect(converted.envelope.data).toMatchObject({ sendId, touch: 'click' });
  });

  it('reports per campaign, variant and bucket from idempotent counters; redelivered events count once', async () => {
    const { email } = await deliver('p-metrics', 'summer', 'A');
    await deliver('p-metrics-2', 'summer', 'B');
    // Two opens, a click twice (unique counts), an unsubscribe, a suppressed send (skip reason).
    await fetch(local(pixelLink(email)));
    await fetch(local(pixelLink(email)));
    await fetch(local(clickLink(email)), { redirect: 'manual' });
    await fetch(local(clickLink(email)), { redirect: 'manual' });
    const unsubscribe = /<(https:[^>]+)>/.exec(email.headers['list-unsubscribe']!)![1]!;
    expect(
      (
        await fetch(local(unsubscribe), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'List-Unsubscribe=One-Click',
        })
      ).status,
    ).toBe(200);
    const again = rendered('p-metrics', 'summer', 'A');
    const skipped = originEnvelope({ ...again, data: { ...again.data, triggerKey: 't-2' } });
    await publisher.publish(SUBJECTS.renderer.rendered, skipped);
    await tap.nextCausedBy(SUBJECTS.delivery.skipped, skipped);
    await settled();
    await publisher.publish(
      SUBJECTS.identity.resolved.track,
      order('p-metrics', 'o-2001', new Date(Date.now() + HOUR), 30.25),
    );
    await tap.next(
      SUBJECTS.delivery.converted,
      (m) => (m.envelope.data as { orderId: string }).orderId === 'o-2001',
    );
    await settled();

    const before = await metrics('summer', '?granularity=hour');
    // Every delivery event seen so far, redelivered: the figures do not move.
    for (const message of tap.messages().filter((m) => m.subject.startsWith('delivery.'))) {
      if ((message.envelope.data as { campaignId?: string }).campaignId === 'summer')
        await publishCopy(under.natsUrl, message.subject, message.envelope);
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

    const unauthorized = await fetch(`${under.service.url}/admin/campaigns/summer/metrics`);
    expect(unauthorized.status).toBe(401);
    const invalid = await fetch(`${under.service.url}/admin/campaigns/summer/metrics?granularity=week`, {
      headers: ADMIN,
    });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(await invalid.json())).toContain('granularity');
  });
});
