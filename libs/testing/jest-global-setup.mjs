// One PostgreSQL cluster (FerretDB's store) for the whole Jest run, on tmpfs: every FerretDB a test file
// starts keeps its data in a database of its own there; workers find it through MESH_TEST_POSTGRES_URL.
// Plain JavaScript on the build output, because Jest loads this file without the path mapping the tests
// get; `npm test` builds first. Without a build (or with MONGO_URL set), nothing starts here and each
// worker starts a cluster of its own on first use.
import { existsSync } from 'node:fs';

/** @typedef {{ url: string, stop(): Promise<void> }} Cluster */

const built = new URL('../../dist/libs/testing/src/infra/postgres-server.js', import.meta.url);

export default async function globalSetup() {
  if (process.env.MONGO_URL || process.env.MESH_TEST_POSTGRES_URL || !existsSync(built)) return;
  const postgresServer = /** @type {{ startPostgres: () => Promise<Cluster> }} */ (await import(built.href));
  const cluster = await postgresServer.startPostgres();
  /** @type {{ meshTestPostgres?: Cluster }} */ (globalThis).meshTestPostgres = cluster;
  process.env.MESH_TEST_POSTGRES_URL = cluster.url;
}
