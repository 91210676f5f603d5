import { randomUUID } from 'node:crypto';
import {
  type Envelope,
  type IdentifyPayload,
  originEnvelope,
  SUBJECTS,
  type TrackPayload,
} from '@mesh/contracts';
import { durableName, MessagePublisher } from '@mesh/messaging';
import {
  bootService,
  type BootedService,
  consumerIsIdle,
  type Infra,
  MessageTap,
  readCollectionStats,
  operationsSince,
  readMongoDataOperations,
  resetCollectionStats,
  startInfra,
  uniqueName,
  waitFor,
} from '@mesh/testing';
import { identitySpec } from '../src/identity.app.js';

const SHOPPERS = 40;
/** Store commands identity may send per shopper (an identify of a new person and a track). */
const OPERATIONS_PER_SHOPPER = 6;

const CONSUMERS = [
  { stream: 'INGEST', durable: durableName('identity', 'ingest.*') },
  { stream: 'IDENTITY', durable: durableName('identity', 'identity.resolved.identify') },
];

/**
 * What one shopper (identify of a new person, then a track by its user id) costs identity in store
 * commands: the count that decides how the mesh scales on the embedded store and on MongoDB alike.
 */
describe('identity: store operations per shopper', () => {
  let infra: Infra;
  let service: BootedService;
  let publisher: MessagePublisher;
  let tap: MessageTap;
  const run = uniqueName('ops').slice(-6);

  beforeAll(async () => {
    infra = await startInfra({ nats: true, redis: true, mongo: { metrics: true } });
    service = await bootService(
      identitySpec({
        PORT: '0',
        NATS_URL: infra.natsUrl!,
        MONGO_URL: `${infra.mongoUrl}/${uniqueName('identity')}`,
        REDIS_URL: infra.redisUrl!,
        MESH_ADMIN_TOKEN: 'identity-test-admin-token',
        NATS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
        LOG_LEVEL: 'silent',
      }),
    );
    publisher = service.app.get(MessagePublisher);
    tap = await MessageTap.open(infra.natsUrl!, 'identity.>');
  }, 60_000);
  afterAll(async () => {
    await tap?.close();
    await service?.close();
    await infra?.stop();
  });

  const event = <T>(type: 'identify' | 'track', data: Omit<T, 'messageId'>): Envelope<T> =>
    originEnvelope({
      type,
      source: 'test-source',
      occurredAt: new Date().toISOString(),
      data: { messageId: randomUUID(), ...data } as T,
    });

  /** Shoppers from..to-1, each an identify and a track in order; resolves when identity is idle. */
  const shop = async (from: number, to: number) => {
    const tracks: Envelope[] = [];
    for (let i = from; i < to; i++) {
      const id = `${run}q${String(i).padStart(4, '0')}z`;
      // Every address sounds alike: the e-mail names of all shoppers fall into one fuzzy-matching block.
      const identify = event<IdentifyPayload>('identify', {
        userId: `user-${id}`,
        traits: { email: `shopper.${id}@example.com`, first_name: 'Ada' },
      });
      const track = event<TrackPayload>('track', {
        userId: `user-${id}`,
        event: 'Product Added',
        properties: { product_id: 'sku-1', cart_id: `cart-${id}` },
      });
      await publisher.publish(SUBJECTS.ingest.identify, identify);
      await publisher.publish(SUBJECTS.ingest.track, track);
      tracks.push(track);
    }
    await Promise.all(tracks.map((track) => tap.nextCausedBy(SUBJECTS.identity.resolved.track, track)));
    await waitFor('identity to settle everything', async () => {
      for (const { stream, durable } of CONSUMERS) {
        if (!(await consumerIsIdle(infra.natsUrl!, stream, durable))) return false;
      }
      return true;
    });
  };

  const dataOperations = () => readMongoDataOperations(infra.mongo!.metricsUrl!);

  it(`sends at most ${OPERATIONS_PER_SHOPPER} store commands per new shopper`, async () => {
    await shop(0, 5);
    await resetCollectionStats(infra.mongo!.postgresUrl);
    const before = await dataOperations();

    await shop(5, 5 + SHOPPERS);

    const after = await dataOperations();
    const perShopper = new Map(
      [...operationsSince(before, after)].map(([command, count]): [string, number] => [
        command,
        count / SHOPPERS,
      ]),
    );
    const total = [...perShopper.values()].reduce((sum, count) => sum + count, 0);
    const stats = await readCollectionStats(infra.mongo!.postgresUrl);
    process.stdout.write(
      [
        `identity, per shopper: ${total.toFixed(2)} store commands (${[...perShopper]
          .map(([command, count]) => `${command} ${count.toFixed(2)}`)
          .join(', ')})`,
        ...stats
          .filter(
            (collection) => collection.sequentialScans + collection.indexScans + collection.inserted > 0,
          )
          .map(
            (collection) =>
              `  ${collection.collection}: ${collection.sequentialScans} seq scans (${collection.rowsReadBySequentialScans} rows), ` +
              `${collection.indexScans} index scans, +${collection.inserted} ~${collection.updated} -${collection.deleted}`,
          ),
      ].join('\n') + '\n',
    );
    expect(total).toBeLessThanOrEqual(OPERATIONS_PER_SHOPPER);
  }, 120_000);
});
