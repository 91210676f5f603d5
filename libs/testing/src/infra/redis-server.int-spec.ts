import { Redis } from 'ioredis';
import { isProcessRunning } from './process-running.js';
import { startRedis } from './redis-server.js';
import { type RunningServer } from './server.js';

describe('startRedis', () => {
  let redis: RunningServer | undefined;

  afterEach(() => redis?.stop());

  it('serves SET/GET, then stop() ends the process', async () => {
    redis = await startRedis();
    const client = new Redis(redis.url);
    try {
      await client.set('greeting', 'hello');
      expect(await client.get('greeting')).toBe('hello');
    } finally {
      client.disconnect();
    }

    const pid = redis.pid!;
    await redis.stop();
    expect(isProcessRunning(pid)).toBe(false);
    expect(redis.pid).toBeUndefined();
  });
});
