import { ServerProcess, serviceEntry } from '@mesh/testing';

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
