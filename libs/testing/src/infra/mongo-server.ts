import { MongoClient } from 'mongodb';
import { assertAcceptsConnections } from './ports.js';
import { startServer, type RunningServer, type ServerDefinition, type ServerOptions } from './server.js';

const ferretDb: ServerDefinition = {
  tool: 'ferretdb',
  readyTimeoutMs: 30_000,
  // Every FerretDB write is an SQLite transaction: on tmpfs tests run several times faster.
  preferTmpfs: true,
  url: (port) => `mongodb://127.0.0.1:${port}`,
  args: (port, dataDir) => [
    '--handler=sqlite',
    `--sqlite-url=file:${dataDir}/`,
    `--listen-addr=127.0.0.1:${port}`,
    '--telemetry=disable',
    `--state-dir=${dataDir}`,
    '--log-level=warn',
    // Its debug HTTP server defaults to 127.0.0.1:8088, so a second FerretDB would exit on that clash.
    '--debug-addr=-',
  ],
  probe: assertMongoPings,
};

/** FerretDB (a MongoDB-wire database) on SQLite; ready once a MongoDB client can ping it. */
export function startMongo(options: ServerOptions = {}): Promise<RunningServer> {
  return startServer(ferretDb, options);
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
