import { freePort, ServerProcess, serviceEntry, startInfra, uniqueName } from '@mesh/testing';

/** What an operator sees when a service is started with a broken environment. */
describe('a service started with a bad environment', () => {
  it('stops at boot, listing every problem with the variable at fault', async () => {
    const lines: string[] = [];
    const child = ServerProcess.spawn({
      name: 'identity',
      command: process.execPath,
      args: [serviceEntry('identity')],
      env: {
        PATH: process.env.PATH,
        PORT: 'not-a-port',
        NATS_URL: 'http://wrong-scheme:4222',
        MONGO_URL: 'postgres://nope',
        LOG_LEVEL: 'chatty',
      },
      onLine: (line) => lines.push(line),
    });
    await child.exited;
    expect(child.describeExit()).toContain('code 1');
    const output = lines.join('\n');
    expect(output).toContain('identity: the environment is not valid');
    for (const variable of ['PORT', 'NATS_URL', 'MONGO_URL', 'LOG_LEVEL', 'MESH_ADMIN_TOKEN']) {
      expect(output).toContain(`${variable}:`);
    }
  });
});

describe('a running service sent SIGTERM', () => {
  it('drains and exits at once, with code 0', async () => {
    const infra = await startInfra({ nats: true, mongo: true, redis: true });
    try {
      const port = await freePort();
      const child = ServerProcess.spawn({
        name: 'identity',
        command: process.execPath,
        args: [serviceEntry('identity')],
        env: {
          PATH: process.env.PATH,
          PORT: String(port),
          NATS_URL: infra.natsUrl,
          MONGO_URL: `${infra.mongoUrl}/${uniqueName('identity')}`,
          REDIS_URL: infra.redisUrl,
          MESH_ADMIN_TOKEN: 'shutdown-test-admin-token',
          NATS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
          LOG_LEVEL: 'warn',
        },
      });
      await child.waitUntilReady(async () => {
        const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
        if (!response.ok) throw new Error(`ready answered ${response.status}`);
      }, 30_000);

      const stopping = performance.now();
      await child.terminate(10_000);
      expect(child.describeExit()).toContain('code 0');
      expect(performance.now() - stopping).toBeLessThan(3_000);
    } finally {
      await infra.stop();
    }
  });
});
