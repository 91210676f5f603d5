import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU time in these ticks per second on every mainstream kernel. */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, or undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields && (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The pids whose parent is `pid` (PostgreSQL's backends, for instance). */
export function childPids(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((candidate) => statFields(candidate)?.[1] === String(pid));
}

/** Fields of /proc/<pid>/stat after the command name: [0] state, [1] ppid, … [11] utime, [12] stime. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** A named group of processes whose CPU time is measured together (a server and its workers). */
export interface ProcessGroup {
  readonly name: string;
  /** The group's pids now: asked again at each reading, since PostgreSQL starts backends as it goes. */
  pids(): number[];
}

/**
 * CPU seconds each group used between start() and stop(). A process first seen after start() was born
 * in the window and counts whole; one that ends counts up to its last reading; PostgreSQL backends that
 * start and end between two readings are missed (call sample() now and then on long runs).
 */
export class CpuMeter {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly members = new Map<string, Set<number>>();

  constructor(private readonly groups: readonly ProcessGroup[]) {}

  start(): void {
    this.first.clear();
    this.last.clear();
    this.members.clear();
    this.read(true);
  }

  sample(): void {
    this.read(false);
  }

  /** CPU seconds per group name. */
  stop(): Map<string, number> {
    this.read(false);
    const used = new Map<string, number>();
    for (const group of this.groups) {
      let seconds = 0;
      for (const pid of this.members.get(group.name) ?? []) {
        seconds += (this.last.get(pid) ?? 0) - (this.first.get(pid) ?? 0);
      }
      used.set(group.name, seconds);
    }
    return used;
  }

  private read(atStart: boolean): void {
    for (const group of this.groups) {
      const members = this.members.get(group.name) ?? new Set<number>();
      this.members.set(group.name, members);
      for (const pid of group.pids()) {
        const seconds = cpuSeconds(pid);
        if (seconds === undefined) continue;
        if (!this.first.has(pid)) this.first.set(pid, atStart ? seconds : 0);
        this.last.set(pid, seconds);
        members.add(pid);
      }
    }
  }
}
