import { Shutdown } from './shutdown.js';

describe('Shutdown', () => {
  let stopped: string[];
  let reported: string[];
  const stopper = (name: string) => () => {
    stopped.push(name);
    return Promise.resolve();
  };
  const newShutdown = (): Shutdown => new Shutdown((line) => reported.push(line));

  beforeEach(() => {
    stopped = [];
    reported = [];
  });

  it('stops in reverse order of start, once', async () => {
    const shutdown = newShutdown();
    for (const name of ['NATS', 'Redis', 'FerretDB', 'mailbox', 'services'])
      shutdown.add(name, stopper(name));

    await Promise.all([shutdown.run(), shutdown.run()]);

    expect(stopped).toEqual(['services', 'mailbox', 'FerretDB', 'Redis', 'NATS']);
    expect(reported[0]).toBe('■ stopping services');
  });

  it('keeps stopping the rest when one step fails', async () => {
    const shutdown = newShutdown();
    shutdown.add('NATS', stopper('NATS'));
    shutdown.add('mailbox', () => Promise.reject(new Error('port closed twice')));

    await shutdown.run();

    expect(stopped).toEqual(['NATS']);
    expect(reported).toContain('  could not stop mailbox: port closed twice');
  });

  it('stops what starts after shutdown began (Ctrl-C during startup)', async () => {
    const shutdown = newShutdown();
    shutdown.add('NATS', stopper('NATS'));
    const running = shutdown.run();

    shutdown.add('services', stopper('services'));
    await running;
    await shutdown.run();

    expect(stopped).toEqual(['NATS', 'services']);
  });
});
