import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  isPortInUse,
  startMongo,
  startNats,
  startPostgres,
  startRedis,
  type RunningServer,
} from '@mesh/testing';
import { runDemo } from './demo.js';
import { ensureTools } from './ensure-tools.js';
import {
  allPorts,
  LocalConfigError,
  readLocalConfig,
  servicePort,
  type LocalConfig,
} from './local-config.js';
import { LocalService } from './local-service.js';
import { startMailbox } from './mailbox.js';
import { formatSeconds, ToolSetupError } from './shell.js';
import { Shutdown } from './shutdown.js';
import { printSummary } from './summary.js';

const READY_TIMEOUT_MS = 60_000;
const DEMO_EMAIL_TIMEOUT_MS = 60_000;

/** A startup problem with a message that says what to do; printed without a stack trace. */
class StartError extends Error {}

async function main(): Promise<void> {
  const rootDir = fileURLToPath(new URL('../../..', import.meta.url));
  const config = readLocalConfig(process.env, rootDir);
  ensureTools();
  assertServicesBuilt(config);
  await assertPortsFree(config);

  const shutdown = new Shutdown();
  stopOnSignals(shutdown);
  try {
    await startEverything(config, shutdown);
  } catch (error) {
    // Ctrl-C during startup makes the waits fail; the signal handler is already stopping everything.
    if (shutdown.started) return;
    await shutdown.run();
    throw error;
  }
}

async function startEverything(config: LocalConfig, shutdown: Shutdown): Promise<void> {
  const started = performance.now();
  const infra = await startInfrastructure(config, shutdown);
  const mailbox = await startMailbox({
    smtpPort: config.smtp.port,
    httpPort: config.mailboxWeb.port,
    storeFile: join(config.dataDir, 'mailbox', 'messages.json'),
  });
  shutdown.add('mailbox', () => mailbox.stop());

  const services = startServices(config, infra);
  shutdown.add('services', () =>
    Promise.all(services.map((service) => service.stop())).then(() => undefined),
  );
  await Promise.all(services.map((service) => service.waitUntilReady(READY_TIMEOUT_MS)));
  console.log(
    `✓ everything is ready in ${formatSeconds(performance.now() - started)}; sending the demo events`,
  );

  const ingestUrl = `http://127.0.0.1:${servicePort(config, 'ingest')}`;
  const demo = await runDemo(ingestUrl, config.demoWriteKey, mailbox.sink, DEMO_EMAIL_TIMEOUT_MS);
  printSummary(config, mailbox.webUrl, demo);
}

interface Infrastructure {
  readonly nats: RunningServer;
  readonly redis: RunningServer;
  readonly mongo: RunningServer;
}

/**
 * NATS, Redis and PostgreSQL in parallel, then FerretDB on PostgreSQL; data under .data/; each registered
 * to stop after the services (FerretDB before PostgreSQL).
 */
async function startInfrastructure(config: LocalConfig, shutdown: Shutdown): Promise<Infrastructure> {
  const dataDir = (name: string): string => join(config.dataDir, name);
  // Own process groups: Ctrl-C reaches only this process, which stops them after the services.
  const [nats, redis, postgres] = await Promise.allSettled([
    startNats({ port: config.nats.port, dataDir: dataDir('nats'), detached: true }),
    startRedis({ port: config.redis.port, dataDir: dataDir('redis'), appendOnly: true, detached: true }),
    startPostgres({
      port: config.postgres.port,
      dataDir: dataDir('postgres'),
      durable: true,
      detached: true,
    }),
  ]);
  const mongo =
    postgres.status === 'fulfilled'
      ? await Promise.allSettled([
          startMongo({
            port: config.mongo.port,
            dataDir: dataDir('ferretdb'),
            postgresUrl: postgres.value.url,
            database: 'ferretdb',
            detached: true,
          }),
        ]).then(([result]) => result)
      : postgres;
  const started = [
    ['NATS', nats],
    ['Redis', redis],
    ['PostgreSQL', postgres],
    ['FerretDB', mongo],
  ] as const;
  for (const [name, result] of started) {
    if (result.status === 'fulfilled') {
      shutdown.add(name, () => result.value.stop());
      console.log(`✓ ${name} on ${result.value.url}`);
    }
  }
  for (const [, result] of started) if (result.status === 'rejected') throw result.reason;
  return { nats: fulfilled(nats), redis: fulfilled(redis), mongo: fulfilled(mongo) };
}

function fulfilled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

function startServices(config: LocalConfig, infra: Infrastructure): LocalService[] {
  const prefixWidth = Math.max(...config.services.map((service) => service.name.length));
  const deliveryUrl = `http://localhost:${servicePort(config, 'delivery')}`;
  return config.services.map((service, index) =>
    LocalService.start({
      name: service.name,
      index,
      port: service.port,
      mainFile: serviceMainFile(config, service.name),
      cwd: config.rootDir,
      prefixWidth,
      env: {
        ...process.env,
        PORT: String(service.port),
        NATS_URL: infra.nats.url,
        MONGO_URL: `${infra.mongo.url}/${service.name}`,
        REDIS_URL: infra.redis.url,
        MESH_ADMIN_TOKEN: config.adminToken,
        MESH_DEMO_WRITE_KEY: config.demoWriteKey,
        MESH_DEMO: 'true',
        LOG_LEVEL: config.logLevel,
        OTEL_SERVICE_NAME: service.name,
        ...(config.otlpEndpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: config.otlpEndpoint } : {}),
        ...(service.name === 'delivery'
          ? { SMTP_URL: `smtp://127.0.0.1:${config.smtp.port}`, MESH_PUBLIC_URL: deliveryUrl }
          : {}),
      },
    }),
  );
}

function serviceMainFile(config: LocalConfig, service: string): string {
  return join(config.rootDir, 'dist', 'apps', service, 'src', 'main.js');
}

function assertServicesBuilt(config: LocalConfig): void {
  const missing = config.services
    .map((service) => serviceMainFile(config, service.name))
    .filter((file) => !existsSync(file))
    .map((file) => relative(config.rootDir, file));
  if (missing.length > 0) {
    throw new StartError(
      `These services are not built:\n  ${missing.join('\n  ')}\nBuild them with: npm run build`,
    );
  }
}

async function assertPortsFree(config: LocalConfig): Promise<void> {
  const ports = allPorts(config);
  const inUse = await Promise.all(ports.map((port) => isPortInUse(port.port)));
  const taken = ports.filter((_, index) => inUse[index]);
  if (taken.length > 0) {
    const lines = taken.map(
      (port) => `  ${port.port} (${port.owner}; set ${port.variable} to use another port)`,
    );
    throw new StartError(
      `These ports are already in use:\n${lines.join('\n')}\nIs another \`npm start\` running? Stop it, or choose other ports.`,
    );
  }
}

/** First Ctrl-C: stop in order and exit 0. A second one: exit now (orphaned servers are killed anyway). */
function stopOnSignals(shutdown: Shutdown): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shutdown.started) {
      console.log(`\n${signal} again: exiting without waiting.`);
      process.exit(1);
    }
    console.log(`\n${signal}: stopping everything (Ctrl-C again to exit at once)`);
    void shutdown.run().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function explain(error: unknown): string {
  if (error instanceof ToolSetupError) return `${error.message}\nTo fix it, run:\n  ${error.command}`;
  if (error instanceof StartError || error instanceof LocalConfigError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

main().catch((error: unknown) => {
  console.error(`✗ ${explain(error)}`);
  process.exit(1);
});
