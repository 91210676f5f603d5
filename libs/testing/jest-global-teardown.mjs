// Stops the run's PostgreSQL cluster (see jest-global-setup.mjs); the orphan reaper would kill it anyway.
export default async function globalTeardown() {
  const cluster = /** @type {{ meshTestPostgres?: { stop(): Promise<void> } }} */ (globalThis)
    .meshTestPostgres;
  await cluster?.stop();
}
