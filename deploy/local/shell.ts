import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** A tool could not be installed; `command` is what the user should run to fix it. */
export class ToolSetupError extends Error {
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
    this.name = 'ToolSetupError';
  }
}

/** The command line as a user would type it, for messages. */
export function commandLine(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): string {
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${quote(value)}`);
  return [...assignments, command, ...args.map(quote)].join(' ');
}

/** Runs a command with its output shown; throws ToolSetupError with the command line when it fails. */
export function runVisibly(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): void {
  const spawnOptions: SpawnSyncOptions = {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: 'inherit',
  };
  const result = spawnSync(command, args, spawnOptions);
  if (result.error || result.status !== 0) {
    const why = result.error?.message ?? `exit code ${String(result.status ?? result.signal)}`;
    const line = commandLine(command, args, options.env);
    throw new ToolSetupError(`${line} failed (${why}).`, options.cwd ? `cd ${options.cwd} && ${line}` : line);
  }
}

/** What `binary --version` prints, or undefined when it does not run (missing, or crashing at start). */
export function versionOutput(binary: string, versionArg = '--version'): string | undefined {
  const result = spawnSync(binary, [versionArg], { encoding: 'utf8', timeout: 10_000 });
  if (result.error || result.status !== 0) return undefined;
  return `${result.stdout}${result.stderr}`.trim();
}

/** Prints `title`, runs `work`, prints how long it took. */
export function timed<T>(title: string, work: () => T): T {
  console.log(`→ ${title}`);
  const started = performance.now();
  const result = work();
  console.log(`  done in ${formatSeconds(performance.now() - started)}`);
  return result;
}

export function formatSeconds(milliseconds: number): string {
  return `${(milliseconds / 1000).toFixed(1)} s`;
}

/** Whether the module at `moduleUrl` is the script node was asked to run. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && pathToFileURL(realpathSync(script)).href === moduleUrl;
}

function quote(word: string): string {
  return /^[\w@%+=:,./~-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
