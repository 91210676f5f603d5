import { randomUUID } from 'node:crypto';
import {
  type CampaignSpecDto,
  type EraseDonePayload,
  originEnvelope,
  type RecommendedSendPayload,
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
import { Redis } from 'ioredis';
import { plantedProfiles } from '../src/evaluation/planted-profiles.js';
import { recommendationSpec } from '../src/recommendation.app.js';

const TOKEN = 'recommendation-test-admin-token';
const DAY_MS = 24 * 3600_000;
const END = Date.UTC(2026, 9, 1);
const CONSUMERS = [
  { stream: 'IDENTITY', durable: 'recommendation__identity_resolved_track' },
  { stream: 'ENRICHMENT', durable: 'recommendation__enrichment_profile_updated' },
];

interface Trained {
  _id: string;
  promoted: boolean;
  reason: string;
  metrics: { auc: number; precision: number; recall: number; n: number };
  previous?: { version: string; metrics: { auc: number } };
}

describe('recommendation propensity: trained from the stream, promoted only when not worse; erasure', () => {
  let under: ServiceUnderTest;
  let publisher: MessagePublisher;
  let tap: MessageTap;
  let redis: Redis;
  const planted = plantedProfiles({ n: 500, end: END });

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${under.service.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const train = async (body: Record<string, unknown>) => {
    const answer = await api('POST', '/api/propensity/train', {
      as_of: new Date(END).toISOString(),
      ...body,
    });
    expect(answer.status).toBe(200);
    return answer.body as unknown as Trained;
  };
  const settled = () =>
    waitFor(
      'the stream learnt',
      async () => {
        for (const c of CONSUMERS)
          if (!(await consumerIsIdle(under.natsUrl, c.stream, c.durable))) return false;
        return true;
      },
      120_000,
    );

  beforeAll(async () => {
    under = await startServiceUnderTest({
      name: 'recommendation',
      spec: recommendationSpec,
      redis: true,
      tap: '>',
    });
    ({ publisher, tap } = under);
    redis = new Redis(under.redisUrl!);
    for (const snapshot of planted.snapshots) {
      await publisher.publish(
        SUBJECTS.enrichment.profileUpdated,
        originEnvelope({
          type: 'profile.updated',
          source: 'test-source',
          occurredAt: new Date(snapshot.at).toISOString(),
          profileId: snapshot.profileId,
          data: {
            profile: {
              profileId: snapshot.profileId,
              traits: { country: snapshot.country },
              computed: snapshot.computed as Record<string, unknown>,
              version: 1,
            },
            changed: ['frequency'],
          },
        }),
      );
    }
    for (const purchase of planted.purchases) {
      await publisher.publish(
        SUBJECTS.identity.resolved.track,
        originEnvelope({
          type: 'track',
          source: 'test-source',
          occurredAt: new Date(purchase.at).toISOString(),
          profileId: purchase.profileId,
          data: {
            messageId: randomUUID(),
            userId: `user-${purchase.profileId}`,
            event: 'Order Completed',
            properties: { order_id: randomUUID(), products: [{ product_id: purchase.productId, price: 20 }] },
            identifiers: [{ type: 'user_id', value: `user-${purchase.profileId}` }],
          },
        }),
      );
    }
    await settled();
  }, 180_000);

  afterAll(async () => {
    redis?.disconnect();
    await under?.close();
  });

  it('keeps one feature row per profile and day, and one purchase per message', async () => {
    expect(await under.db.collection('feature_rows').countDocuments()).toBe(planted.snapshots.length);
    expect(await under.db.collection('purchases').countDocuments()).toBe(planted.purchases.length);
  });

  it('promotes a better model, refuses a worse one, scores profiles and reports bias by segment', async () => {
    const tooEarly = await api('POST', '/api/propensity/train', {
      as_of: new Date(END - 90 * DAY_MS).toISOString(),
    });
    expect(tooEarly.status).toBe(422);
    const invalid = await api('POST', '/api/propensity/train', { features: ['shoe_size'] });
    expect(invalid.status).toBe(400);
    expect(invalid.body.fields).toHaveProperty(['features']);

    // A model on a feature that is pure noise first, then one on all features, then the noise again.
    const weak = await train({ features: ['days_since_seen'] });
    expect(weak).toMatchObject({ promoted: true, reason: 'first model' });
    const strong = await train({});
    expect(strong.promoted).toBe(true);
    expect(strong.previous?.version).toBe(weak._id);
    expect(strong.metrics.auc).toBeGreaterThan(0.7);
    expect(strong.metrics.auc).toBeGreaterThan(strong.previous!.metrics.auc + 0.1);
    const worse = await train({ features: ['days_since_seen'] });
    expect(worse.promoted).toBe(false);
    expect(worse.previous?.version).toBe(strong._id);
    expect(worse.reason).toContain(`kept ${strong._id}`);

    const models = await api('GET', '/api/propensity/models');
    expect(models.body.promoted).toBe(strong._id);
    expect(models.body.models).toHaveLength(3);

    const eager = planted.snapshots.find(
      (s) => s.country === 'DE' && (s.computed.frequency ?? 0) >= 4 && s.computed.cart,
    )!;
    const idle = planted.snapshots.find(
      (s) =>
        s.country === 'DE' &&
        s.computed.frequency === 0 &&
        !s.computed.cart &&
        (s.computed.engagement_score ?? 0) < 0.3,
    )!;
    const high = await api('GET', `/api/propensity/profiles/${eager.profileId}`);
    const low = await api('GET', `/api/propensity/profiles/${idle.profileId}`);
    expect(high.body).toMatchObject({ profileId: eager.profileId, modelVersion: strong._id });
    expect(high.body.propensity as number).toBeGreaterThan(low.body.propensity as number);
    expect((await api('GET', '/api/propensity/profiles/nobody')).status).toBe(404);

    const bias = await api('GET', '/api/propensity/bias');
    expect(bias.body.version).toBe(strong._id);
    expect(bias.body.flagged).toEqual(['country:FR']);
  });

  it('attaches the propensity of the promoted model with the items', async () => {
    const campaign: CampaignSpecDto = {
      campaignId: 'winback',
      name: 'Winback',
      templateId: 'winback',
      recommendation: { strategy: 'popular', limit: 1 },
      sendPolicy: { maxPerDay: 0, transactional: false },
    };
    const intent = originEnvelope({
      type: 'campaign.triggered',
      source: 'test-source',
      occurredAt: new Date().toISOString(),
      profileId: 'prof-1',
      data: {
        campaign,
        triggerKey: 'winback:prof-1',
        trigger: { event: 'Signed Up', properties: {} },
        profile: { profileId: 'prof-1', traits: {}, computed: {}, version: 1 },
      },
    });
    await publisher.publish(SUBJECTS.enrichment.triggered, intent);
    const answer = await tap.nextCausedBy<RecommendedSendPayload>(SUBJECTS.recommendation.attached, intent);
    const { propensity, modelVersion } = answer.envelope.data.recommendations;
    expect(propensity).toBeGreaterThanOrEqual(0);
    expect(propensity).toBeLessThanOrEqual(1);
    expect(modelVersion).toMatch(/^propensity-/);
  });

  it('erases a person: history, purchases and features go, aggregates stay, one receipt', async () => {
    const buyer = planted.purchases[0]!.profileId;
    expect(await redis.exists(`recommendation:hist:${buyer}`)).toBe(1);
    const popularBefore = await redis.zcard('recommendation:pop');
    const request = originEnvelope({
      type: 'privacy.erase.requested',
      source: 'test-source',
      occurredAt: new Date().toISOString(),
      data: { requestId: 'erase-1', identifiers: [{ type: 'user_id' as const, value: `user-${buyer}` }] },
    });
    await publisher.publish(SUBJECTS.privacy.eraseRequested, request);
    const receipt = await tap.nextCausedBy<EraseDonePayload>(
      SUBJECTS.privacy.eraseDone('recommendation'),
      request,
    );
    expect(receipt.envelope.data).toMatchObject({
      requestId: 'erase-1',
      service: 'recommendation',
      removed: { featureRows: 1, userLinks: 1 },
    });
    expect(receipt.envelope.data.removed.purchases).toBeGreaterThanOrEqual(1);
    expect(receipt.envelope.data.removed.historyKeys).toBeGreaterThanOrEqual(2);
    expect(await redis.exists(`recommendation:hist:${buyer}`, `recommendation:bought:${buyer}`)).toBe(0);
    expect(await under.db.collection('feature_rows').countDocuments({ profileId: buyer })).toBe(0);
    expect(await under.db.collection('purchases').countDocuments({ profileId: buyer })).toBe(0);
    expect(await redis.zcard('recommendation:pop')).toBe(popularBefore);

    // Redelivered: answered again under the same id, so the stream keeps one receipt.
    await publishCopy(under.natsUrl, SUBJECTS.privacy.eraseRequested, request);
    await waitFor(
      'the copy answered',
      () =>
        tap
          .messages(SUBJECTS.privacy.eraseDone('recommendation'))
          .filter((m) => m.envelope.causationId === request.id).length === 2,
    );
    const receipts = tap
      .messages(SUBJECTS.privacy.eraseDone('recommendation'))
      .filter((m) => m.envelope.causationId === request.id);
    expect(receipts[1]!.envelope.id).toBe(receipts[0]!.envelope.id);
  });
});
