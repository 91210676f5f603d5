import { MongoClient } from 'mongodb';
import { installIndexCompanions } from './index-companions.js';
import { assertAcceptsConnections, freePort } from './ports.js';
import { startPostgres, withPostgres } from './postgres-server.js';
import { startServer, type RunningServer, type ServerDefinition, type ServerOptions } from './server.js';
import { uniqueName } from './unique-name.js';

/** Set by the Jest global setup: the test run's PostgreSQL cluster, shared by every FerretDB of the run. */
export const TEST_POSTGRES_URL_VARIABLE = 'MESH_TEST_POSTGRES_URL';

/**
 * Connections each FerretDB may open to PostgreSQL (opened as needed). FerretDB 1.24 stalls for good
 * once more operations run at once than this (measured: 256 concurrent upserts stopped after 1,975 with
 * 20, and with its default of 50 the mesh stalled at 25 shoppers/s with 64 handlers waiting), so it is
 * well above what the services' consumers run at once.
 */
const POOL_MAX_CONNECTIONS = 400;

export interface MongoOptions extends ServerOptions {
  /**
   * The PostgreSQL cluster to store in, `postgres://user@host:port` without a database. Omitted: the
   * test run's cluster (MESH_TEST_POSTGRES_URL), else one started for this process on first use.
   */
  postgresUrl?: string;
  /**
   * The PostgreSQL database FerretDB keeps every MongoDB database in; created when missing, kept on
   * stop. Omitted: a new database, dropped on stop.
   */
  database?: string;
  /** Serve FerretDB's Prometheus metrics (requests per command) on a free port: see metricsUrl. */
  metrics?: boolean;
}

export interface MongoServer extends RunningServer {
  /** The PostgreSQL database FerretDB stores in, for its statistics (readCollectionStats). */
  readonly postgresUrl: string;
  /** FerretDB's metrics in Prometheus' text format, when started with `metrics: true`. */
  readonly metricsUrl: string | undefined;
}

/**
 * FerretDB (a MongoDB-wire database) on PostgreSQL, with a GIN companion beside every index (see
 * index-companions.ts); ready once a MongoDB client can ping it.
 */
export async function startMongo(options: MongoOptions = {}): Promise<MongoServer> {
  const clusterUrl = options.postgresUrl ?? (await testCluster());
  const database = options.database ?? uniqueName('ferretdb').toLowerCase();
  const postgresUrl = `${clusterUrl}/${database}`;
  await createDatabase(clusterUrl, database);
  const temporary = options.database === undefined;
  const debugAddress = options.metrics ? `127.0.0.1:${await freePort()}` : undefined;
  const definition = ferretDb({
    postgresUrl,
    debugAddress,
    afterStop: temporary ? () => dropDatabase(clusterUrl, database) : undefined,
  });
  try {
    const server = await startServer(definition, options);
    return Object.assign(server, {
      postgresUrl,
      metricsUrl: debugAddress && `http://${debugAddress}/debug/metrics`,
    });
  } catch (error) {
    if (temporary) await dropDatabase(clusterUrl, database);
    throw error;
  }
}

interface FerretDbSetup {
  readonly postgresUrl: string;
  readonly debugAddress: string | undefined;
  readonly afterStop: (() => Promise<void>) | undefined;
}

function ferretDb({ postgresUrl, debugAddress, afterStop }: FerretDbSetup): ServerDefinition {
  return {
    tool: 'ferretdb',
    readyTimeoutMs: 30_000,
    preferTmpfs: true,
    url: (port) => `mongodb://127.0.0.1:${port}`,
    args: (port, dataDir) => [
      '--handler=postgresql',
      `--postgresql-url=${postgresUrl}?pool_max_conns=${POOL_MAX_CONNECTIONS}`,
      `--listen-addr=127.0.0.1:${port}`,
      '--telemetry=disable',
      `--state-dir=${dataDir}`,
      '--log-level=warn',
      // Its debug HTTP server defaults to 127.0.0.1:8088, so a second FerretDB would exit on that clash.
      `--debug-addr=${debugAddress ?? '-'}`,
    ],
    probe: assertMongoPings,
    afterStop,
  };
}

/** Creates `database` in the cluster when missing, with the index companions installed. */
async function createDatabase(clusterUrl: string, database: string): Promise<void> {
  await withPostgres(`${clusterUrl}/postgres`, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  });
  await withPostgres(`${clusterUrl}/${database}`, async (client) => {
    await installIndexCompanions(client);
    // Per-statement counts (readTopStatements); the library is preloaded by startPostgres.
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  });
}

async function dropDatabase(clusterUrl: string, database: string): Promise<void> {
  await withPostgres(`${clusterUrl}/postgres`, (client) =>
    client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`),
  );
}

let processCluster: Promise<RunningServer> | undefined;

/** The test run's cluster, or one for this process (stopped by the orphan reaper when it ends). */
async function testCluster(): Promise<string> {
  const shared = process.env[TEST_POSTGRES_URL_VARIABLE];
  if (shared) return shared;
  processCluster ??= startPostgres();
  return (await processCluster).url;
}

async function assertMongoPings(url: string): Promise<void> {
  // A MongoClient that finds the port closed waits 500 ms before trying again: check the port first.
  await assertAcceptsConnections(Number(new URL(url).port));
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
  try {
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close();
  }
}

/** Commands FerretDB served, by name (`find`, `update`, `hello`…), from its metrics. */
export async function readMongoCommands(metricsUrl: string): Promise<Map<string, number>> {
  const response = await fetch(metricsUrl);
  if (!response.ok) throw new Error(`GET ${metricsUrl} answered ${response.status}`);
  const counts = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    const match = /^ferretdb_client_requests_total\{([^}]*)\} (\S+)$/.exec(line);
    const command = match && /command="([^"]*)"/.exec(match[1]!)?.[1];
    if (command) counts.set(command, (counts.get(command) ?? 0) + Number(match[2]));
  }
  return counts;
}

/**
 * What a MongoDB driver sends on its own: handshakes (FerretDB names a new connection's legacy OP_QUERY
 * handshake `unknown`), monitoring, sessions, authentication and boot-time schema work.
 */
const DRIVER_HOUSEKEEPING = new Set([
  'unknown',
  'hello',
  'isMaster',
  'ismaster',
  'ping',
  'buildInfo',
  'buildinfo',
  'getParameter',
  'saslStart',
  'saslContinue',
  'endSessions',
  'listCollections',
  'listIndexes',
  'createIndexes',
  'create',
]);

/** The data operations (find, insert, update, findAndModify…) FerretDB served so far, by command. */
export async function readMongoDataOperations(metricsUrl: string): Promise<Map<string, number>> {
  const commands = await readMongoCommands(metricsUrl);
  return new Map([...commands].filter(([command]) => !DRIVER_HOUSEKEEPING.has(command)));
}

/** The counts that grew from `before` to `after`, by how much. */
export function operationsSince(
  before: Map<string, number>,
  after: Map<string, number>,
): Map<string, number> {
  return new Map(
    [...after]
      .map(([command, count]): [string, number] => [command, count - (before.get(command) ?? 0)])
      .filter(([, count]) => count > 0),
  );
}
