import { natsAuthOptions } from './nats-auth.js';

describe('natsAuthOptions (dlq tool)', () => {
  it('takes user and password from flags before the environment', () => {
    expect(
      natsAuthOptions({ user: 'admin', password: 'p1' }, { NATS_USER: 'x', NATS_PASSWORD: 'y' }),
    ).toEqual({
      user: 'admin',
      pass: 'p1',
    });
    expect(natsAuthOptions({}, { NATS_USER: 'admin', NATS_PASSWORD: 'p2' })).toEqual({
      user: 'admin',
      pass: 'p2',
    });
    expect(natsAuthOptions({}, {})).toEqual({});
  });

  it('reads a creds file into an authenticator and refuses half or mixed settings', () => {
    const read: string[] = [];
    const options = natsAuthOptions({ creds: '/secrets/admin.creds' }, {}, (path) => {
      read.push(path);
      return new TextEncoder().encode('-----BEGIN NATS USER JWT-----\n...');
    });
    expect(typeof options.authenticator).toBe('function');
    expect(read).toEqual(['/secrets/admin.creds']);
    expect(() => natsAuthOptions({ user: 'admin' }, {})).toThrow('--user and --password go together');
    expect(() => natsAuthOptions({ creds: 'x' }, { NATS_PASSWORD: 'p' })).toThrow('not both');
  });
});
