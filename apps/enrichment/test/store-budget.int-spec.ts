import { SUBJECTS } from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import {
  bootService,
  type BootedService,
  type Infra,
  MessageTap,
  readCollectionStats,
  operationsSince,
  readMongoDataOperations,
  readTopStatements,
  resetCollectionStats,
  startInfra,
  uniqueName,
  waitFor,
} from '@mesh/testing';
import { enrichmentSpec } from '../src/enrichment.app.js';
import { identify, track } from './enrichment-fixture.js';

const SHOPPERS = 100;
const SHOPPERS_PER_SECOND = 20;
/**
 * Store operations per shopper (a new person's identify, then a cart event that sends at once): the
 * profile's insert and its update, and the campaign entry written with the check for an earlier one.
 */
const OPERATIONS_PER_SHOPPER = 3;
/**
 * What enrichment asks of its store per shopper (the whole mesh's budget is 15 operations for two
 * events and an email): FerretDB's own command counts and PostgreSQL's per-collection counters.
 */
describe('enrichment: store operations per shopper', () => {
  let infra: Infra;
  let service: BootedService;
  let publisher: MessagePublisher;
  let tap: MessageTap;
  const run = uniqueName('shop').slice(-6);

  beforeAll(async () => {
    infra = await startInfra({ nats: true, redis: true, mongo: { metrics: true } });
    service = await bootService(
      enrichmentSpec({
        PORT: '0',
        NATS_URL: infra.natsUrl!,
        MONGO_URL: `${infra.mongoUrl}/${uniqueName('enrichment')}`,
        REDIS_URL: infra.redisUrl!,
        MESH_ADMIN_TOKEN: 'enrichment-budget-admin-token',
        NATS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
        MESH_DEMO: 'true',
        LOG_LEVEL: 'silent',
      }),
    );
    publisher = service.app.get(MessagePublisher);
    tap = await MessageTap.open(infra.natsUrl!, 'enrichment.>');
  }, 60_000);

  afterAll(async () => {
    await tap?.close();
    await service?.close();
    await infra?.stop();
  });

  const dataOperations = () => readMongoDataOperations(infra.mongo!.metricsUrl!);
  const since = operationsSince;
  const total = (operations: Map<string, number>) => [...operations.values()].reduce((a, b) => a + b, 0);

  const shop = async (from: number, to: number) => {
    const started = performance.now();
    const profiles: string[] = [];
    for (let i = from; i < to; i++) {
      const due = started + ((i - from) * 1_000) / SHOPPERS_PER_SECOND;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      const profileId = `profile-${run}-${i}`;
      profiles.push(profileId);
      await publisher.publish(
        SUBJECTS.identity.resolved.identify,
        identify(profileId, { email: `${run}-${i}@example.com`, first_name: 'Ada' }),
      );
      await publisher.publish(
        SUBJECTS.identity.resolved.track,
        track(profileId, 'Product Added', {
          product_id: 'sku-laptop-13',
          price: 1299,
          currency: 'EUR',
          cart_id: `cart-${run}-${i}`,
        }),
      );
    }
    const waiting = new Set(profiles);
    await waitFor(
      `${profiles.length} send intents`,
      () => {
        for (const message of tap.messages(SUBJECTS.enrichment.triggered))
          waiting.delete(message.envelope.profileId!);
        return waiting.size === 0;
      },
      60_000,
    );
  };

  it(`asks its store at most ${OPERATIONS_PER_SHOPPER} operations per shopper, and nothing while idle`, async () => {
    await shop(0, 10);
    await resetCollectionStats(infra.mongo!.postgresUrl);
    const before = await dataOperations();

    await shop(10, 10 + SHOPPERS);
    // Writes behind the acks (if any) are part of the cost.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const operations = since(before, await dataOperations());
    const perShopper = (count: number) => (count / SHOPPERS).toFixed(2);
    const stats = await readCollectionStats(infra.mongo!.postgresUrl);
    process.stdout.write(
      `\nenrichment per shopper: ${perShopper(total(operations))} operations (${[...operations]
        .map(([command, count]) => `${command} ${perShopper(count)}`)
        .join(', ')})\n  ${stats
        .filter((c) => c.sequentialScans + c.indexScans + c.inserted + c.updated > 0)
        .map(
          (c) =>
            `${c.collection}: ${perShopper(c.sequentialScans)} seq scans, ${perShopper(c.indexScans)} index scans, ` +
            `+${perShopper(c.inserted)} ~${perShopper(c.updated)} -${perShopper(c.deleted)}`,
        )
        .join('\n  ')}\n  ${(await readTopStatements(infra.mongo!.postgresUrl, 12))
        .map((s) => `${perShopper(s.calls)} ${s.query.replace(/\s+/g, ' ').slice(0, 140)}`)
        .join('\n  ')}\n`,
    );
    expect(total(operations) / SHOPPERS).toBeLessThanOrEqual(OPERATIONS_PER_SHOPPER);

    // Idle: no event arrives, and nothing polls the store.
    const idleBefore = await dataOperations();
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    expect(Object.fromEntries(since(idleBefore, await dataOperations()))).toEqual({});
  }, 180_000);
});
