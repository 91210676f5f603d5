import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OrphanReaper } from './orphan-reaper.js';
import { isProcessRunning } from './process-running.js';

describe('OrphanReaper', () => {
  it('kills guarded processes and removes guarded dirs when its parent goes away', async () => {
    const reaper = OrphanReaper.spawn();
    const server = spawn('sleep', ['30']);
    const dir = mkdtempSync(join(tmpdir(), 'reaper-spec-'));
    const serverExit = new Promise((resolve) => server.once('exit', resolve));
    reaper.guardPid(server.pid!);
    reaper.guardDir(dir);

    await reaper.reapNow();

    await expect(serverExit).resolves.toBeNull();
    expect(isProcessRunning(server.pid!)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  it('leaves alone what was released', async () => {
    const reaper = OrphanReaper.spawn();
    const server = spawn('sleep', ['30']);
    const dir = mkdtempSync(join(tmpdir(), 'reaper-spec-'));
    reaper.guardPid(server.pid!)();
    reaper.guardDir(dir)();

    await reaper.reapNow();

    expect(isProcessRunning(server.pid!)).toBe(true);
    expect(existsSync(dir)).toBe(true);
    server.kill();
    rmSync(dir, { recursive: true });
  });
});
