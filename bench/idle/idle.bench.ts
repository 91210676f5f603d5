import { SERVICES, type ServiceName } from '@mesh/contracts';
import {
  freePort,
  readCollectionStats,
  operationsSince,
  readMongoDataOperations,
  resetCollectionStats,
  SmtpSink,
  startMongo,
  startNats,
  startPostgres,
  startRedis,
  startServiceProcesses,
} from '@mesh/testing';
import { runDemo } from '../../deploy/local/demo.js';
import { childPids, CpuMeter, type ProcessGroup } from '../support/process-cpu.js';

// What the whole mesh costs when nothing arrives: the six services, NATS, Redis, FerretDB and
// PostgreSQL started as `npm start` starts them (demo seeded and sent once, LOG_LEVEL=info, no trace
// exporter), then left alone. The baseline, measured in the same run before the services start, is
// the infrastructure alone. Pollers must not scan: PostgreSQL's counters over the idle window say.
// The window starts a minute after the demo: for about that long after boot V8 still collects garbage
// the boot left (a MongoDB client alone idles at 0.45 % of a core in its first minute, 0.29 % after).
// Usage: npm run bench -- idle; BENCH_SECONDS (window, 60), BENCH_SETTLE_SECONDS (60).
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 60);
const TARGET_PERCENT_OF_A_CORE = 3;
const WRITE_KEY = 'bench-idle-write-key-0123456789';

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1_000));

const [nats, redis, postgres] = await Promise.all([startNats(), startRedis(), startPostgres()]);
const mongo = await startMongo({ postgresUrl: postgres.url, metrics: true });
const sink = new SmtpSink();
const smtpPort = await sink.start();

const infrastructure: ProcessGroup[] = [
  { name: 'nats-server', pids: () => [nats.pid!] },
  { name: 'redis-server', pids: () => [redis.pid!] },
  { name: 'ferretdb', pids: () => [mongo.pid!] },
  { name: 'postgresql', pids: () => [postgres.pid!, ...childPids(postgres.pid!)] },
];

async function measure(groups: ProcessGroup[]): Promise<Map<string, number>> {
  const meter = new CpuMeter(groups);
  meter.start();
  for (let second = 0; second < SECONDS; second++) {
    await sleep(1);
    meter.sample();
  }
  return meter.stop();
}

const percentOfACore = (seconds: number) => (100 * seconds) / SECONDS;
const total = (used: Map<string, number>) => [...used.values()].reduce((sum, seconds) => sum + seconds, 0);

console.log(`bench/idle: infrastructure alone for ${SECONDS} s`);
const baseline = await measure(infrastructure);

const ports = new Map<ServiceName, number>();
for (const service of SERVICES) ports.set(service, await freePort());
const mesh = await startServiceProcesses({
  env: {
    NATS_URL: nats.url,
    REDIS_URL: redis.url,
    MESH_ADMIN_TOKEN: 'bench-idle-admin-token-0123456789',
    MESH_DEMO: 'true',
    MESH_DEMO_WRITE_KEY: WRITE_KEY,
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    LOG_LEVEL: 'info',
  },
  serviceEnv: (service) => ({
    PORT: String(ports.get(service)),
    MONGO_URL: `${mongo.url}/${service}`,
  }),
});
const demo = await runDemo(mesh.url('ingest'), WRITE_KEY, sink, 60_000);
if (demo.kind !== 'email') throw new Error(`the demo sent no email: ${demo.reason}`);
console.log(
  `bench/idle: demo email arrived; settling ${SETTLE_SECONDS} s, then the mesh idle for ${SECONDS} s`,
);
await sleep(SETTLE_SECONDS);

const commandsBefore = await readMongoDataOperations(mongo.metricsUrl!);
await resetCollectionStats(mongo.postgresUrl);
const idle = await measure([
  ...SERVICES.map((service) => ({ name: service, pids: () => [mesh.pid(service)!] })),
  ...infrastructure,
]);
const commandsAfter = await readMongoDataOperations(mongo.metricsUrl!);
const scans = (await readCollectionStats(mongo.postgresUrl)).filter((stats) => stats.sequentialScans > 0);
const dataCommands = [...operationsSince(commandsBefore, commandsAfter)];

await mesh.stop();
await sink.stop();
await Promise.all([mongo.stop(), nats.stop(), redis.stop()]);
await postgres.stop();

const rows = [...idle].sort((a, b) => b[1] - a[1]);
console.log(`\n${'process'.padEnd(16)} ${'% of one core'.padStart(14)}`);
for (const [name, seconds] of rows)
  console.log(`${name.padEnd(16)} ${percentOfACore(seconds).toFixed(2).padStart(14)}`);
const meshPercent = percentOfACore(total(idle));
const baselinePercent = percentOfACore(total(baseline));
console.log(
  `${'whole mesh'.padEnd(16)} ${meshPercent.toFixed(2).padStart(14)}  (target < ${TARGET_PERCENT_OF_A_CORE})`,
);
console.log(`${'baseline: infra'.padEnd(16)} ${baselinePercent.toFixed(2).padStart(14)}  (no services)`);
console.log(`ratio mesh ÷ infrastructure alone: ${(meshPercent / baselinePercent).toFixed(2)}×`);
console.log(
  `store while idle: ${dataCommands.map(([command, count]) => `${command} ${count}`).join(', ') || 'no data commands'}; ` +
    `sequential scans: ${scans.map((stats) => `${stats.collection} ${stats.sequentialScans}`).join(', ') || 'none'}`,
);
console.log(
  JSON.stringify({
    bench: 'idle',
    seconds: SECONDS,
    meshPercentOfACore: Number(meshPercent.toFixed(3)),
    infrastructurePercentOfACore: Number(baselinePercent.toFixed(3)),
    perProcess: Object.fromEntries(
      rows.map(([name, seconds]) => [name, Number(percentOfACore(seconds).toFixed(3))]),
    ),
    storeCommandsWhileIdle: Object.fromEntries(dataCommands),
    sequentialScansWhileIdle: Object.fromEntries(
      scans.map((stats) => [stats.collection, stats.sequentialScans]),
    ),
  }),
);
