import { SERVICES, type ServiceName } from '@mesh/contracts';
import {
  analyzeStore,
  fillLikeShoppers,
  type CollectionReads,
  freePort,
  type Infra,
  readCollectionStats,
  operationsSince,
  readMongoDataOperations,
  readTopStatements,
  resetCollectionStats,
  sendShopper,
  shopperAddress,
  shopperProfileId,
  SmtpSink,
  startInfra,
  startServiceProcesses,
  type ServiceProcesses,
  uniqueName,
  waitFor,
  withPostgres,
} from '@mesh/testing';

const WRITE_KEY = 'scan-budget-write-key-0123456789';
const ADMIN_TOKEN = 'scan-budget-admin-token-0123456789';
const WARM_UP_SHOPPERS = 20;
/** Copies of each warm-up shopper's documents: ≥ 20k profiles already in the store. */
const FILL_COPIES = 1_000;
const MEASURED_SHOPPERS = 200;
const SHOPPERS_PER_SECOND = 10;
const EVENTS_PER_SHOPPER = 2;
/** Rows that sequential scans may read per event, all collections together (small configuration ones). */
const ROWS_SCANNED_PER_EVENT = 10;
/** A collection this large grows with profiles or sends: no sequential scan may touch it. */
const GROWING_COLLECTION_ROWS = 1_000;
/** The mesh left alone after the load: its pollers keep polling. */
const IDLE_SECONDS = 15;
/** Data commands FerretDB may serve per shopper (two events and one email). */
const MONGO_OPERATIONS_PER_SHOPPER = 15;

/**
 * The embedded store (FerretDB on PostgreSQL) holding ≥ 20k shoppers' worth of data, a few hundred new
 * shoppers through the six services: every query on the hot path must be served by an index, which
 * PostgreSQL's own counters show.
 */
describe('the store under the whole mesh', () => {
  let infra: Infra;
  let sink: SmtpSink;
  let mesh: ServiceProcesses;
  const run = uniqueName('scan').slice(-6);
  const databasePrefix = uniqueName('budget');
  const databaseOf = (service: ServiceName) => `${databasePrefix}_${service}`;
  const token = (i: number) => `sb${run}q${String(i).padStart(5, '0')}z`;

  beforeAll(async () => {
    infra = await startInfra({ nats: true, redis: true, mongo: { metrics: true } });
    sink = new SmtpSink();
    const smtpPort = await sink.start();
    const ports = new Map<ServiceName, number>();
    for (const service of SERVICES) ports.set(service, await freePort());
    mesh = await startServiceProcesses({
      env: {
        NATS_URL: infra.natsUrl!,
        REDIS_URL: infra.redisUrl!,
        NATS_STREAM_MAX_BYTES: String(256 * 1024 * 1024),
        MESH_ADMIN_TOKEN: ADMIN_TOKEN,
        MESH_DEMO: 'true',
        MESH_DEMO_WRITE_KEY: WRITE_KEY,
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        LOG_LEVEL: 'warn',
      },
      serviceEnv: (service) => ({
        PORT: String(ports.get(service)),
        MONGO_URL: `${infra.mongoUrl}/${databaseOf(service)}`,
      }),
    });
  }, 120_000);

  afterAll(async () => {
    await mesh?.stop();
    await sink?.stop();
    await infra?.stop();
  });

  const shopper = async (i: number) => {
    expect(await sendShopper(mesh.url('ingest'), WRITE_KEY, token(i))).toBe(200);
  };

  /** Shoppers from..to-1 arrive at a fixed rate; resolves once each has its email. */
  const shop = async (from: number, to: number) => {
    const started = performance.now();
    const calls: Array<Promise<void>> = [];
    for (let i = from; i < to; i++) {
      const due = started + ((i - from) * 1_000) / SHOPPERS_PER_SECOND;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      calls.push(shopper(i));
    }
    await Promise.all(calls);
    const addresses = new Set(Array.from({ length: to - from }, (_, k) => shopperAddress(token(from + k))));
    await waitFor(
      `${to - from} emails`,
      () => sink.messages().filter((email) => email.to.some((to) => addresses.has(to))).length >= to - from,
      120_000,
    );
  };

  const dataOperations = () => readMongoDataOperations(infra.mongo!.metricsUrl!);

  const transactions = () =>
    withPostgres(infra.mongo!.postgresUrl, async (client) => {
      const { rows } = await client.query<{ count: string }>(
        'SELECT xact_commit + xact_rollback AS count FROM pg_stat_database WHERE datname = current_database()',
      );
      return Number(rows[0]!.count);
    });

  it('reads no growing collection by a sequential scan, and few rows of any', async () => {
    await shop(0, WARM_UP_SHOPPERS);
    const shoppers = Array.from({ length: WARM_UP_SHOPPERS }, (_, i) => token(i));
    const profileIds = await Promise.all(
      shoppers.map((shopper) => shopperProfileId(mesh.url('identity'), ADMIN_TOKEN, shopper)),
    );
    const tokens = [...shoppers, ...profileIds];
    const filled = await fillLikeShoppers(
      infra.mongoUrl!,
      SERVICES.map(databaseOf),
      tokens,
      FILL_COPIES,
      WARM_UP_SHOPPERS / 2,
    );
    report(
      'filled',
      [...filled.collections].map(([name, count]) => `${name}: ${count}`),
    );
    await analyzeStore(infra.mongo!.postgresUrl);
    await resetCollectionStats(infra.mongo!.postgresUrl);
    const operationsBefore = await dataOperations();
    const transactionsBefore = await transactions();

    await shop(WARM_UP_SHOPPERS, WARM_UP_SHOPPERS + MEASURED_SHOPPERS);
    await statisticsReported();

    const stats = await readCollectionStats(infra.mongo!.postgresUrl);
    const operations = operationsSince(operationsBefore, await dataOperations());
    const totalOperations = [...operations.values()].reduce((sum, count) => sum + count, 0);
    const perShopper = (value: number) => (value / MEASURED_SHOPPERS).toFixed(2);
    report('per shopper', [
      `Mongo data operations: ${perShopper(totalOperations)} (${[...operations]
        .map(([command, count]) => `${command} ${perShopper(count)}`)
        .join(', ')})`,
      `PostgreSQL transactions: ${perShopper((await transactions()) - transactionsBefore)}`,
      ...describeReads(stats),
      'most frequent statements (calls per shopper, rows per call):',
      ...(await readTopStatements(infra.mongo!.postgresUrl, 25)).map(
        (statement) =>
          `  ${perShopper(statement.calls)}  ${(statement.rows / statement.calls).toFixed(1)}  ` +
          statement.query.replace(/\s+/g, ' ').slice(0, 160),
      ),
    ]);

    expect(violations(stats, MEASURED_SHOPPERS * EVENTS_PER_SHOPPER)).toEqual([]);
    expect(totalOperations / MEASURED_SHOPPERS).toBeLessThanOrEqual(MONGO_OPERATIONS_PER_SHOPPER);

    // Idle, pollers poll: never by a sequential scan of a growing collection.
    await resetCollectionStats(infra.mongo!.postgresUrl);
    const idleOperationsBefore = await dataOperations();
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1_000));
    const idleStats = await readCollectionStats(infra.mongo!.postgresUrl);
    const idleOperations = operationsSince(idleOperationsBefore, await dataOperations());
    report(`idle for ${IDLE_SECONDS} s`, [
      `Mongo data operations: ${[...idleOperations].map(([command, count]) => `${command} ${count}`).join(', ') || 'none'}`,
      ...describeReads(idleStats),
    ]);
    expect(growingCollectionsScanned(idleStats)).toEqual([]);

    // The budget is what keeps the companions honest: without one, its collection is read whole.
    const busiest = stats
      .filter((collection) => collection.rows >= GROWING_COLLECTION_ROWS)
      .sort((a, b) => b.indexScans - a.indexScans)[0]!;
    await dropCompanions(busiest.table);
    await resetCollectionStats(infra.mongo!.postgresUrl);
    const from = WARM_UP_SHOPPERS + MEASURED_SHOPPERS;
    await shop(from, from + 10);
    await statisticsReported();
    const without = violations(await readCollectionStats(infra.mongo!.postgresUrl), 10 * EVENTS_PER_SHOPPER);
    expect(without.some((violation) => violation.startsWith(busiest.collection))).toBe(true);
  }, 600_000);

  const dropCompanions = (table: string) =>
    withPostgres(infra.mongo!.postgresUrl, async (client) => {
      const [schema, name] = table.split('.');
      const { rows } = await client.query<{ index: string }>(
        `SELECT indexname AS index FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 AND indexname LIKE '%\\_gin'`,
        [schema, name],
      );
      for (const { index } of rows) await client.query(`DROP INDEX "${schema}"."${index}"`);
    });
});

/**
 * PostgreSQL's backends report their counters when a transaction ends, but at most once a second, and
 * an idle one only after 10 s (PGSTAT_IDLE_INTERVAL): wait that long before reading or resetting them.
 */
function statisticsReported(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 11_000));
}

/** What breaks the budget, one line per collection; empty when it holds. */
function violations(stats: readonly CollectionReads[], events: number): string[] {
  const found = growingCollectionsScanned(stats);
  const rowsScanned = stats.reduce((sum, collection) => sum + collection.rowsReadBySequentialScans, 0);
  if (rowsScanned / events > ROWS_SCANNED_PER_EVENT) {
    found.push(
      `all collections: ${(rowsScanned / events).toFixed(1)} rows read by sequential scans per event`,
    );
  }
  return found;
}

function growingCollectionsScanned(stats: readonly CollectionReads[]): string[] {
  return stats
    .filter((collection) => collection.rows >= GROWING_COLLECTION_ROWS && collection.sequentialScans > 0)
    .map(
      (collection) =>
        `${collection.collection}: ${collection.sequentialScans} sequential scans of ${collection.rows} rows`,
    );
}

function describeReads(stats: readonly CollectionReads[]): string[] {
  return [...stats]
    .filter((collection) => collection.sequentialScans + collection.indexScans + collection.inserted > 0)
    .sort((a, b) => b.rowsReadBySequentialScans - a.rowsReadBySequentialScans)
    .map(
      (collection) =>
        `${collection.collection} (${collection.rows} rows): ${collection.sequentialScans} seq scans reading ` +
        `${collection.rowsReadBySequentialScans} rows, ${collection.indexScans} index scans, ` +
        `+${collection.inserted} ~${collection.updated} -${collection.deleted}`,
    );
}

function report(title: string, lines: string[]): void {
  process.stdout.write(`\nscan budget, ${title}:\n  ${lines.join('\n  ')}\n`);
}
