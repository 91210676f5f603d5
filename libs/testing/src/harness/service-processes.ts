import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICES, type ServiceName } from '@mesh/contracts';
import { repoRoot } from './repo-root.js';
import { waitFor } from './wait-for.js';

export interface ServiceProcess {
  readonly service: ServiceName;
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything the process printed, newest last. */
  output(): string[];
}

export interface ServiceProcessesOptions {
  /** Variables for every service (NATS_URL, REDIS_URL, MESH_ADMIN_TOKEN…). */
  env: Record<string, string>;
  /** Variables of one service (PORT, MONGO_URL…); PORT is required. */
  serviceEnv: (service: ServiceName) => Record<string, string>;
  services?: readonly ServiceName[];
  /** Called with each line a service prints. */
  onLine?: (service: ServiceName, line: string) => void;
  readyTimeoutMs?: number;
}

export interface ServiceProcesses {
  readonly services: ReadonlyMap<ServiceName, ServiceProcess>;
  url(service: ServiceName): string;
  /** SIGTERM (they drain), then SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
}

/** The compiled entry point of a service (`npm run build` makes it). */
export function serviceEntry(service: ServiceName): string {
  return join(repoRoot(), 'dist', 'apps', service, 'src', 'main.js');
}

function launch(service: ServiceName, options: ServiceProcessesOptions): ServiceProcess {
  const entry = serviceEntry(service);
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  const own = options.serviceEnv(service);
  if (!own.PORT) throw new Error(`serviceEnv(${service}) must give a PORT`);
  const env = { ...process.env, ...options.env, ...own, OTEL_SERVICE_NAME: service };
  const child = spawn(process.execPath, [entry], { cwd: repoRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      lines.push(line);
      if (lines.length > 2000) lines.shift();
      options.onLine?.(service, line);
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return { service, url: `http://127.0.0.1:${own.PORT}`, process: child, output: () => lines };
}

async function waitUntilReady(running: ServiceProcess, timeoutMs: number): Promise<void> {
  const exited = new Promise<never>((_, reject) => {
    running.process.once('exit', (code, signal) =>
      reject(new Error(`${running.service} exited (${signal ?? `code ${code}`}) before it was ready`)),
    );
  });
  exited.catch(() => undefined); // also ends (harmlessly) when the service is stopped later
  const ready = waitFor(
    `${running.service} to be ready`,
    async () => (await fetch(`${running.url}/health/ready`).catch(() => undefined))?.ok === true,
    timeoutMs,
    200,
  );
  try {
    await Promise.race([ready, exited]);
  } catch (error) {
    const tail = running.output().slice(-15).join('\n');
    throw new Error(`${(error as Error).message}\n--- last output of ${running.service} ---\n${tail}`, {
      cause: error,
    });
  }
}

function stopOne(running: ServiceProcess, graceMs: number): Promise<void> {
  const child = running.process;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts services as separate processes, from their built entry points, and waits until each is ready. */
export async function startServiceProcesses(options: ServiceProcessesOptions): Promise<ServiceProcesses> {
  const services = new Map<ServiceName, ServiceProcess>();
  const stop = async (graceMs = 10_000) => {
    await Promise.all([...services.values()].map((running) => stopOne(running, graceMs)));
  };
  const killAll = () => {
    for (const running of services.values()) running.process.kill('SIGKILL');
  };
  process.once('exit', killAll);
  try {
    for (const service of options.services ?? SERVICES) services.set(service, launch(service, options));
    await Promise.all(
      [...services.values()].map((running) => waitUntilReady(running, options.readyTimeoutMs ?? 60_000)),
    );
  } catch (error) {
    await stop(2_000);
    throw error;
  }
  return {
    services,
    url: (service) => {
      const running = services.get(service);
      if (!running) throw new Error(`${service} was not started`);
      return running.url;
    },
    stop: async (graceMs) => {
      await stop(graceMs);
      process.removeListener('exit', killAll);
    },
  };
}
