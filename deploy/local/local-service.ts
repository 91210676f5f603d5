import { ServerProcess, ServerStartError } from '@mesh/testing';
import { formatLogLine, servicePrefix } from './log-format.js';

const RECENT_LINES = 20;
const READY_PROBE_TIMEOUT_MS = 2_000;

export interface ServiceLaunch {
  readonly name: string;
  /** Picks the colour of its log prefix. */
  readonly index: number;
  readonly port: number;
  readonly mainFile: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly prefixWidth: number;
}

export class ServiceNotReadyError extends Error {
  constructor(
    readonly service: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceNotReadyError';
  }
}

/** One service as its own node process, its pino logs printed readably behind a coloured name. */
export class LocalService {
  private stopping = false;

  private constructor(
    private readonly launch: ServiceLaunch,
    private readonly serverProcess: ServerProcess,
    private readonly recentLines: readonly string[],
  ) {}

  static start(launch: ServiceLaunch): LocalService {
    const prefix = servicePrefix(launch.name, launch.index, launch.prefixWidth);
    const recentLines: string[] = [];
    const serverProcess = ServerProcess.spawn({
      name: launch.name,
      command: process.execPath,
      args: [launch.mainFile],
      cwd: launch.cwd,
      env: launch.env,
      // Own process group: Ctrl-C reaches only `npm start`, which stops services before the infrastructure.
      detached: true,
      onLine: (line) => printLogLine(line, prefix, recentLines),
    });
    const service = new LocalService(launch, serverProcess, recentLines);
    void serverProcess.exited.then(() => service.reportUnexpectedExit(prefix));
    return service;
  }

  get name(): string {
    return this.launch.name;
  }

  get url(): string {
    return `http://127.0.0.1:${this.launch.port}`;
  }

  /** Waits for GET /health/ready to answer 200; throws naming the service, with its last log lines. */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    const readyUrl = `${this.url}/health/ready`;
    try {
      await this.serverProcess.waitUntilReady(() => assertOk(readyUrl), timeoutMs);
    } catch (error) {
      if (!(error instanceof ServerStartError)) throw error;
      const lines = this.recentLines.length ? this.recentLines.join('\n') : '(it logged nothing)';
      const indented = lines.replace(/^/gm, '  ');
      throw new ServiceNotReadyError(this.name, `${error.summary}\nIts last log lines:\n${indented}`);
    }
  }

  /** SIGTERM, and SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    await this.serverProcess.terminate(graceMs);
  }

  private reportUnexpectedExit(prefix: string): void {
    if (!this.stopping) console.log(`${prefix}${this.name} ${this.serverProcess.describeExit()}`);
  }
}

function printLogLine(line: string, prefix: string, recentLines: string[]): void {
  const text = formatLogLine(line);
  recentLines.push(text);
  recentLines.splice(0, recentLines.length - RECENT_LINES);
  console.log(text.replace(/^/gm, prefix));
}

async function assertOk(url: string): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(READY_PROBE_TIMEOUT_MS) });
  await response.body?.cancel();
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
}
