import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessRunning } from './process-running.js';
import { ServerProcess, ServerStartError } from './server-process.js';

const never = (): Promise<void> => Promise.reject(new Error('not listening yet'));

describe('ServerProcess', () => {
  it('explains a server that exits before it is ready with its output', async () => {
    const server = ServerProcess.spawn({
      name: 'broken-server',
      command: 'sh',
      args: ['-c', 'echo "bad flag -x" >&2; exit 3'],
    });

    const ready = server.waitUntilReady(never, 5_000);

    await expect(ready).rejects.toThrow(ServerStartError);
    await expect(ready).rejects.toThrow(
      /broken-server exited with code 3 before it was ready[\s\S]*bad flag -x/,
    );
  });

  it('explains a missing binary', async () => {
    const server = ServerProcess.spawn({ name: 'ghost', command: '/nonexistent/ghost-server', args: [] });

    await expect(server.waitUntilReady(never, 5_000)).rejects.toThrow(
      /ghost could not be started \(.*ENOENT/,
    );
  });

  it('times out with the last probe error, and kill() ends the process', async () => {
    const server = ServerProcess.spawn({ name: 'slow-server', command: 'sleep', args: ['30'] });

    await expect(server.waitUntilReady(never, 300)).rejects.toThrow(
      /slow-server was not ready after 300 ms \(last check: not listening yet\)/,
    );
    await server.kill();
    expect(isProcessRunning(server.pid!)).toBe(false);
  });

  it('terminate() falls back to SIGKILL when SIGTERM is ignored', async () => {
    // Ready only once the handler is installed: on a loaded machine node takes a while to get there.
    const marker = join(mkdtempSync(join(tmpdir(), 'stubborn-')), 'ready');
    const ignoreTerm = `process.on('SIGTERM', () => {}); require('node:fs').writeFileSync(${JSON.stringify(marker)}, ''); setInterval(() => {}, 1000)`;
    const server = ServerProcess.spawn({
      name: 'stubborn',
      command: process.execPath,
      args: ['-e', ignoreTerm],
    });
    await server.waitUntilReady(
      () => (existsSync(marker) ? Promise.resolve() : Promise.reject(new Error('handler not installed yet'))),
      20_000,
    );

    const started = Date.now();
    await server.terminate(200);

    expect(server.running).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});
