import { accessSync, constants, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { orphanReaper } from './orphan-reaper.js';

const TMPFS = '/dev/shm';

/** A directory a server writes into; `remove()` deletes it only when it was created as a temp dir. */
export interface DataDir {
  readonly path: string;
  remove(): Promise<void>;
}

/**
 * Uses `requested` (created if missing, kept on remove) or creates a temp dir, on tmpfs when `preferTmpfs`
 * and /dev/shm is writable, removed by remove() or when this process ends.
 */
export function prepareDataDir(prefix: string, requested?: string, preferTmpfs = false): DataDir {
  if (requested !== undefined) {
    const path = resolve(requested);
    mkdirSync(path, { recursive: true });
    return { path, remove: () => Promise.resolve() };
  }
  const path = mkdtempSync(join(preferTmpfs && isWritableDir(TMPFS) ? TMPFS : tmpdir(), `${prefix}-`));
  const release = orphanReaper().guardDir(path);
  return {
    path,
    async remove() {
      release();
      await rm(path, { recursive: true, force: true });
    },
  };
}

function isWritableDir(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
