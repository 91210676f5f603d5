import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { orphanReaper } from './orphan-reaper.js';

/** Enough of a server's output to explain why it failed, without growing for ever. */
const OUTPUT_LIMIT = 16_000;
const PROBE_INTERVAL_MS = 50;

export interface ProcessSpec {
  /** Shown in errors, e.g. `nats-server`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Own process group: a terminal Ctrl-C reaches only the parent, which stops the server itself. */
  readonly detached?: boolean;
  readonly cwd?: string;
  /** The whole environment of the process; this process's environment when omitted. */
  readonly env?: NodeJS.ProcessEnv;
  /** Called with each line the process writes, stdout and stderr alike. */
  readonly onLine?: (line: string) => void;
  /** Run as this user (the caller must be root), e.g. PostgreSQL, which refuses to run as root. */
  readonly user?: SystemUser;
}

/** A system account's ids, for running a server as that user. */
export interface SystemUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export class ServerStartError extends Error {
  constructor(
    /** One sentence, e.g. `nats-server exited with code 1 before it was ready.` */
    readonly summary: string,
    readonly command: string,
    readonly output: string,
  ) {
    super([summary, `Command: ${command}`, output ? `Output:\n${output}` : 'It printed nothing.'].join('\n'));
    this.name = 'ServerStartError';
  }
}

interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

/** A server child process: captured output, a readiness wait, and killed when this process ends. */
export class ServerProcess {
  private output = '';
  private exitStatus: ExitStatus | undefined;
  /** Resolves when the process has ended (or could not start). */
  readonly exited: Promise<void>;

  private constructor(
    private readonly spec: ProcessSpec,
    private readonly child: ChildProcess,
  ) {
    const release = child.pid === undefined ? () => undefined : orphanReaper().guardPid(child.pid);
    this.exited = new Promise((resolve) => {
      const settle = (status: ExitStatus): void => {
        this.exitStatus ??= status;
        release();
        resolve();
      };
      child.once('exit', (code, signal) => settle({ code, signal }));
      child.once('error', (error) => settle({ code: null, signal: null, error }));
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => this.capture(chunk));
      if (stream && spec.onLine) createInterface({ input: stream }).on('line', spec.onLine);
    }
  }

  static spawn(spec: ProcessSpec): ServerProcess {
    const child = spawn(spec.command, spec.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: spec.detached ?? false,
      cwd: spec.cwd,
      env: spec.env,
      uid: spec.user?.uid,
      gid: spec.user?.gid,
    });
    // A forgotten stop() must not keep the test run alive: the orphan reaper kills the server after it.
    child.unref();
    for (const stream of [child.stdout, child.stderr]) if (stream instanceof Socket) stream.unref();
    return new ServerProcess(spec, child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** Polls `probe` until it resolves; throws with the server's output if it exits or times out first. */
  async waitUntilReady(probe: () => Promise<void>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastProbeError: unknown;
    while (Date.now() < deadline) {
      if (!this.running) throw this.startError(`${this.describeExit()} before it was ready`);
      try {
        await probe();
        if (this.running) return;
      } catch (error) {
        lastProbeError = error;
      }
      await this.exitsWithin(PROBE_INTERVAL_MS);
    }
    const reason = lastProbeError instanceof Error ? ` (last check: ${lastProbeError.message})` : '';
    throw this.startError(`was not ready after ${timeoutMs} ms${reason}`);
  }

  /** SIGTERM, then SIGKILL if it is still running after `graceMs`. */
  async terminate(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    if (!(await this.exitsWithin(graceMs))) await this.kill();
  }

  /** SIGKILL: the server gets no chance to clean up, as in a crash. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** E.g. `exited with code 1`, `was killed by SIGKILL`; `is running` while it runs. */
  describeExit(): string {
    const status = this.exitStatus;
    if (!status) return 'is running';
    if (status.error) return `could not be started (${status.error.message})`;
    if (status.signal) return `was killed by ${status.signal}`;
    return `exited with code ${String(status.code)}`;
  }

  /** Waits up to `ms` for the process to exit, without a timer left behind that keeps Node alive. */
  private async exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(resolve, ms, false);
    });
    try {
      return await Promise.race([this.exited.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private capture(chunk: Buffer): void {
    this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  }

  private startError(what: string): ServerStartError {
    const command = [this.spec.command, ...this.spec.args].join(' ');
    return new ServerStartError(`${this.spec.name} ${what}.`, command, this.output.trim());
  }
}
