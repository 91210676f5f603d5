import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICES, type ServiceName } from '@mesh/contracts';
import { ServerProcess } from '../infra/server-process.js';
import { repoRoot } from './repo-root.js';

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
  url(service: ServiceName): string;
  /** The service's process id while it runs (for its CPU time in /proc). */
  pid(service: ServiceName): number | undefined;
  /** SIGTERM (they drain), then SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
}

/** The compiled entry point of a service (`npm run build` makes it). */
export function serviceEntry(service: ServiceName): string {
  return join(repoRoot(), 'dist', 'apps', service, 'src', 'main.js');
}

async function assertReady(url: string): Promise<void> {
  const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`GET ${url}/health/ready answered ${response.status}`);
}

/**
 * Starts services as separate processes from their built entry points, as production runs them,
 * and waits until each is ready. The processes die with this one, however it ends.
 */
export async function startServiceProcesses(options: ServiceProcessesOptions): Promise<ServiceProcesses> {
  const running = new Map<ServiceName, { url: string; process: ServerProcess }>();
  const stop = async (graceMs = 10_000) => {
    await Promise.all([...running.values()].map((service) => service.process.terminate(graceMs)));
  };
  try {
    for (const service of options.services ?? SERVICES) {
      const entry = serviceEntry(service);
      if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
      const own = options.serviceEnv(service);
      if (!own.PORT) throw new Error(`serviceEnv(${service}) must give a PORT`);
      const child = ServerProcess.spawn({
        name: service,
        command: process.execPath,
        args: [entry],
        cwd: repoRoot(),
        env: { ...process.env, ...options.env, ...own, OTEL_SERVICE_NAME: service },
        ...(options.onLine ? { onLine: (line: string) => options.onLine?.(service, line) } : {}),
      });
      running.set(service, { url: `http://127.0.0.1:${own.PORT}`, process: child });
    }
    await Promise.all(
      [...running.values()].map(({ url, process: child }) =>
        child.waitUntilReady(() => assertReady(url), options.readyTimeoutMs ?? 60_000),
      ),
    );
  } catch (error) {
    await stop(2_000);
    throw error;
  }
  return {
    url: (service) => {
      const found = running.get(service);
      if (!found) throw new Error(`${service} was not started`);
      return found.url;
    },
    pid: (service) => running.get(service)?.process.pid,
    stop,
  };
}
