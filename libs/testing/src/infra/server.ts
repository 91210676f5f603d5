import { prepareDataDir, type DataDir } from './temp-dir.js';
import { assertPortFree, freePort, PortInUseError } from './ports.js';
import { ServerProcess, ServerStartError, type SystemUser } from './server-process.js';
import { requireTool, type ToolName } from './tools.js';

const START_ATTEMPTS_ON_FREE_PORTS = 3;

export interface ServerOptions {
  /** Listen on this port; a free one when omitted. */
  port?: number;
  /** Keep the data here (created if missing, kept after stop); a temp dir removed on stop when omitted. */
  dataDir?: string;
  /** Run in its own process group, so a terminal Ctrl-C reaches only the caller, which stops it in order. */
  detached?: boolean;
}

/** A server started by the test harness or the local runtime. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Pid of the running process; undefined after stop() or kill(). */
  readonly pid: number | undefined;
  /** Graceful stop (SIGTERM, SIGKILL after 5 s), then removes a temp data dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, as in a crash; the data dir stays, so restart() brings the server back with its data. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data dir (stopping it first if it runs). */
  restart(): Promise<void>;
}

/** How to run and probe one kind of server. */
export interface ServerDefinition {
  readonly tool: ToolName;
  readonly readyTimeoutMs: number;
  readonly preferTmpfs: boolean;
  url(port: number): string;
  args(port: number, dataDir: string): string[];
  /** Resolves once the server at `url` serves requests; throws otherwise. */
  probe(url: string): Promise<void>;
  /** Run as this system user (PostgreSQL refuses root); the data dir is handed to it first. */
  readonly user?: SystemUser;
  /** Makes the data dir ready before each launch (e.g. PostgreSQL's initdb on first use). */
  prepare?(dataDir: string): Promise<void>;
  /** After a graceful stop, before a temp data dir is removed (e.g. drops a database it used). */
  afterStop?(): Promise<void>;
}

export async function startServer(
  definition: ServerDefinition,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const command = requireTool(definition.tool);
  const dataDir = prepareDataDir(`mesh-${definition.tool}`, options.dataDir, definition.preferTmpfs);
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const server = new ManagedServer(definition, command, port, dataDir, options.detached ?? false);
    try {
      await server.launch();
      return server;
    } catch (error) {
      // A free port can be taken by a parallel test between picking it and binding it: pick another.
      const retry =
        options.port === undefined && attempt < START_ATTEMPTS_ON_FREE_PORTS && isPortClash(error);
      if (!retry) {
        await dataDir.remove();
        throw error;
      }
    }
  }
}

function isPortClash(error: unknown): boolean {
  if (error instanceof PortInUseError) return true;
  return error instanceof ServerStartError && /address already in use/i.test(error.output);
}

class ManagedServer implements RunningServer {
  private serverProcess: ServerProcess | undefined;
  private stopped = false;

  constructor(
    private readonly definition: ServerDefinition,
    private readonly command: string,
    readonly port: number,
    private readonly data: DataDir,
    private readonly detached: boolean,
  ) {}

  get url(): string {
    return this.definition.url(this.port);
  }

  get dataDir(): string {
    return this.data.path;
  }

  get pid(): number | undefined {
    return this.serverProcess?.running ? this.serverProcess.pid : undefined;
  }

  async launch(): Promise<void> {
    await assertPortFree(this.port, this.definition.tool);
    await this.definition.prepare?.(this.data.path);
    const serverProcess = ServerProcess.spawn({
      name: this.definition.tool,
      command: this.command,
      args: this.definition.args(this.port, this.data.path),
      detached: this.detached,
      user: this.definition.user,
    });
    this.serverProcess = serverProcess;
    try {
      await serverProcess.waitUntilReady(
        () => this.definition.probe(this.url),
        this.definition.readyTimeoutMs,
      );
    } catch (error) {
      await serverProcess.kill();
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.serverProcess?.terminate();
    await this.definition.afterStop?.();
    await this.data.remove();
  }

  async kill(): Promise<void> {
    await this.serverProcess?.kill();
  }

  async restart(): Promise<void> {
    if (this.stopped) {
      throw new Error(`${this.definition.tool} on port ${this.port} was stopped; start a new one.`);
    }
    await this.serverProcess?.terminate();
    await this.launch();
  }
}
