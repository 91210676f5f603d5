import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';

/**
 * Runs in its own node process. Reads `+pid N`, `-pid N`, `+dir PATH`, `-dir PATH` lines; when its stdin
 * closes (the parent exited, crashed or was killed) it SIGKILLs the pids and removes the dirs. It ignores
 * Ctrl-C and SIGTERM, so it outlives the parent long enough to clean up.
 */
const REAPER_SCRIPT = `
const { rmSync } = require('node:fs');
const guarded = { pid: new Set(), dir: new Set() };
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {});
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (pending + chunk).split('\\n');
  pending = lines.pop();
  for (const line of lines) {
    const [change, kind, value] = [line[0], line.slice(1, 4), line.slice(5)];
    if (change === '+') guarded[kind].add(value);
    else guarded[kind].delete(value);
  }
});
process.stdin.on('close', () => {
  for (const pid of guarded.pid) {
    try { process.kill(Number(pid), 'SIGKILL'); } catch {}
  }
  for (const dir of guarded.dir) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
`;

type Kind = 'pid' | 'dir';

/**
 * Makes sure servers and temp dirs never outlive the process that started them, however it ends
 * (SIGKILL included). An 'exit' handler is not enough: in a Jest worker `process` is a copy whose
 * 'exit' event never fires.
 */
export class OrphanReaper {
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdin?.on('error', () => undefined);
  }

  /** A reaper that does not keep this process alive. */
  static spawn(): OrphanReaper {
    const child = spawn(process.execPath, ['-e', REAPER_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.unref();
    if (child.stdin instanceof Socket) child.stdin.unref();
    return new OrphanReaper(child);
  }

  /** SIGKILLs `pid` when this process ends, unless released first. */
  guardPid(pid: number): () => void {
    return this.guard('pid', String(pid));
  }

  /** Removes `dir` when this process ends, unless released first. */
  guardDir(dir: string): () => void {
    return this.guard('dir', dir);
  }

  /** Cleans up everything still guarded now, as when this process ends, and waits for it. */
  async reapNow(): Promise<void> {
    this.child.stdin?.end();
    await this.exited;
  }

  private guard(kind: Kind, value: string): () => void {
    this.child.stdin?.write(`+${kind} ${value}\n`);
    return () => this.child.stdin?.write(`-${kind} ${value}\n`);
  }
}

let shared: OrphanReaper | undefined;

/** The reaper of this process, started on first use. */
export function orphanReaper(): OrphanReaper {
  shared ??= OrphanReaper.spawn();
  return shared;
}
