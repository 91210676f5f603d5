import {
  type CampaignSpecDto,
  originEnvelope,
  type ProfileUpdatedPayload,
  type ResolvedTrackPayload,
  type SendIntentPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import {
  bootService,
  type BootedService,
  type Infra,
  MessageTap,
  operationsSince,
  readMongoDataOperations,
  readTopStatements,
  resetCollectionStats,
  startInfra,
  uniqueName,
  waitFor,
} from '@mesh/testing';
import { recommendationSpec } from '../src/recommendation.app.js';

const SHOPPERS = 100;
const SHOPPERS_PER_SECOND = 20;
/** Store operations per shopper: its feature rows (one upsert, often shared with other shoppers). */
const OPERATIONS_PER_SHOPPER = 1;
const CART_REMINDER: CampaignSpecDto = {
  campaignId: 'cart-abandonment',
  name: 'You left something in your cart',
  templateId: 'cart-reminder',
  recommendation: { strategy: 'bought_together', limit: 3 },
  sendPolicy: { maxPerDay: 2, transactional: false },
};

/**
 * What recommendation asks of its store per shopper, as the mesh feeds it: the cart event, two
 * profile snapshots (identify, then the cart) and the send intent.
 */
describe('recommendation: store operations per shopper', () => {
  let infra: Infra;
  let service: BootedService;
  let publisher: MessagePublisher;
  let tap: MessageTap;
  const run = uniqueName('shop').slice(-6);

  beforeAll(async () => {
    infra = await startInfra({ nats: true, redis: true, mongo: { metrics: true } });
    service = await bootService(
      recommendationSpec({
        PORT: '0',
        NATS_URL: infra.natsUrl!,
        MONGO_URL: `${infra.mongoUrl}/${uniqueName('recommendation')}`,
        REDIS_URL: infra.redisUrl!,
        MESH_ADMIN_TOKEN: 'recommendation-budget-admin-token',
        NATS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
        LOG_LEVEL: 'silent',
      }),
    );
    publisher = service.app.get(MessagePublisher);
    tap = await MessageTap.open(infra.natsUrl!, 'recommendation.>');
  }, 60_000);

  afterAll(async () => {
    await tap?.close();
    await service?.close();
    await infra?.stop();
  });

  const dataOperations = () => readMongoDataOperations(infra.mongo!.metricsUrl!);
  const since = operationsSince;
  const total = (operations: Map<string, number>) => [...operations.values()].reduce((a, b) => a + b, 0);

  const shopper = async (i: number) => {
    const profileId = `profile-${run}-${i}`;
    const occurredAt = new Date().toISOString();
    const traits = { email: `${run}-${i}@example.com`, first_name: 'Ada' };
    const properties = {
      product_id: 'sku-laptop-13',
      name: 'Laptop 13',
      price: 1299,
      currency: 'EUR',
      cart_id: `cart-${run}-${i}`,
    };
    const snapshot = (version: number, computed: Record<string, unknown>) =>
      originEnvelope<ProfileUpdatedPayload>({
        type: 'profile.updated',
        source: 'test-source',
        occurredAt,
        profileId,
        data: { profile: { profileId, traits, computed, version }, changed: ['email'] },
      });
    await publisher.publish(SUBJECTS.enrichment.profileUpdated, snapshot(1, {}));
    await publisher.publish(
      SUBJECTS.identity.resolved.track,
      originEnvelope<ResolvedTrackPayload>({
        type: 'track',
        source: 'test-source',
        occurredAt,
        profileId,
        data: {
          messageId: `${profileId}-added`,
          userId: profileId,
          event: 'Product Added',
          properties,
          identifiers: [{ type: 'user_id', value: profileId }],
        },
      }),
    );
    const cart = { items: [{ product_id: 'sku-laptop-13', quantity: 1, price: 1299 }], value: 1299 };
    await publisher.publish(SUBJECTS.enrichment.profileUpdated, snapshot(2, { cart }));
    await publisher.publish(
      SUBJECTS.enrichment.triggered,
      originEnvelope<SendIntentPayload>({
        type: 'campaign.triggered',
        source: 'test-source',
        occurredAt,
        profileId,
        data: {
          campaign: CART_REMINDER,
          triggerKey: `cart:${properties.cart_id}`,
          trigger: { event: 'Product Added', properties },
          profile: { profileId, traits, computed: { cart }, version: 2 },
        },
      }),
    );
    return profileId;
  };

  const shop = async (from: number, to: number) => {
    const started = performance.now();
    const profiles = new Set<string>();
    for (let i = from; i < to; i++) {
      const due = started + ((i - from) * 1_000) / SHOPPERS_PER_SECOND;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      profiles.add(await shopper(i));
    }
    await waitFor(
      `${profiles.size} recommendations`,
      () => {
        for (const message of tap.messages(SUBJECTS.recommendation.attached))
          profiles.delete(message.envelope.profileId!);
        return profiles.size === 0;
      },
      60_000,
    );
  };

  it(`asks its store at most ${OPERATIONS_PER_SHOPPER} operation per shopper`, async () => {
    await shop(0, 10);
    // Writes behind the acks (if any) belong to the shoppers before.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await resetCollectionStats(infra.mongo!.postgresUrl);
    const before = await dataOperations();

    await shop(10, 10 + SHOPPERS);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const operations = since(before, await dataOperations());
    const perShopper = (count: number) => (count / SHOPPERS).toFixed(2);
    process.stdout.write(
      `\nrecommendation per shopper: ${perShopper(total(operations))} operations (${[...operations]
        .map(([command, count]) => `${command} ${perShopper(count)}`)
        .join(', ')})\n  ${(await readTopStatements(infra.mongo!.postgresUrl, 6))
        .map((s) => `${perShopper(s.calls)} ${s.query.replace(/\s+/g, ' ').slice(0, 120)}`)
        .join('\n  ')}\n`,
    );
    expect(total(operations) / SHOPPERS).toBeLessThanOrEqual(OPERATIONS_PER_SHOPPER);
  }, 120_000);
});
