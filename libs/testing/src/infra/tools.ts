import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export type ToolName = 'nats-server' | 'redis-server' | 'ferretdb' | 'postgres' | 'initdb';

/** Versions the project builds and tests against; redis-server is whatever Debian ships. */
export const TOOL_VERSIONS = {
  'nats-server': 'v2.15.2',
  ferretdb: 'v1.24.2',
} as const;

/** The command that installs or builds every missing tool. */
export const ENSURE_TOOLS_COMMAND = 'npm run build && node dist/deploy/local/ensure-tools.js';

/** Binaries built by ensure-tools; a per-user cache, so a clean clone on the same machine reuses them. */
export function toolsDir(): string {
  return join(homedir(), '.cache', 'personalization-mesh', 'tools');
}

/** Where ensure-tools puts its own build of `name`. */
export function cachedToolPath(name: ToolName): string {
  return join(toolsDir(), name);
}

/** The binary to run for `name`: the cached build first, then the first match on PATH. */
export function findTool(name: ToolName): string | undefined {
  if (name === 'postgres' || name === 'initdb') return findPostgresBinary(name);
  return isExecutable(cachedToolPath(name)) ? cachedToolPath(name) : findOnPath(name);
}

/** Where Debian's packages put each PostgreSQL major version's server binaries (not on PATH). */
const DEBIAN_POSTGRES_ROOT = '/usr/lib/postgresql';

/**
 * PostgreSQL's server binaries: POSTGRES_BIN_DIR when set, else the newest of Debian's
 * /usr/lib/postgresql/<major>/bin, else PATH (other distributions put them there).
 */
function findPostgresBinary(name: 'postgres' | 'initdb'): string | undefined {
  const configured = process.env.POSTGRES_BIN_DIR;
  if (configured) return isExecutable(join(configured, name)) ? join(configured, name) : undefined;
  const debian = debianPostgresMajors()
    .map((major) => join(DEBIAN_POSTGRES_ROOT, String(major), 'bin', name))
    .find(isExecutable);
  return debian ?? findOnPath(name);
}

function debianPostgresMajors(): number[] {
  try {
    return readdirSync(DEBIAN_POSTGRES_ROOT)
      .map(Number)
      .filter((major) => Number.isInteger(major))
      .sort((a, b) => b - a);
  } catch {
    return [];
  }
}

/** The first executable called `command` on PATH, like `which`. */
export function findOnPath(command: string): string | undefined {
  return pathDirectories()
    .map((dir) => join(dir, command))
    .find(isExecutable);
}

/** Like findTool, but throws an error that says how to install the tool. */
export function requireTool(name: ToolName): string {
  const found = findTool(name);
  if (!found) {
    throw new Error(
      `${name} was not found in ${toolsDir()} nor on PATH. Install it with: ${ENSURE_TOOLS_COMMAND}`,
    );
  }
  return found;
}

function pathDirectories(): string[] {
  return (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
