import { type Infra, startInfra, uniqueName, waitFor } from '@mesh/testing';
import { Redis } from 'ioredis';
import { SeenMessagesRepository } from './seen-messages.repository.js';

describe('SeenMessagesRepository (real Redis)', () => {
  let infra: Infra;
  let redis: Redis;

  beforeAll(async () => {
    infra = await startInfra({ redis: true });
    redis = new Redis(infra.redisUrl!, { keyPrefix: 'ingest:' });
  });

  afterAll(async () => {
    redis?.disconnect();
    await infra?.stop();
  });

  /** How many of these commands Redis has run so far. */
  const commandsRun = async (...commands: string[]) => {
    const stats = await redis.info('commandstats');
    return commands
      .map((command) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0))
      .reduce((sum, calls) => sum + calls, 0);
  };
  /** Each group of records is one script. */
  const scriptsRun = () => commandsRun('evalsha', 'eval');

  it('records the messageIds of calls stored within a few milliseconds together, each for the window', async () => {
    // Written when the test says (flush), not 5 ms later: a loaded machine takes longer between two lines.
    const seen = new SeenMessagesRepository(redis, 3_600, 60_000);
    const source = uniqueName('source');
    const ids = Array.from({ length: 100 }, (_, i) => `message-${i}`);
    await seen.flush(); // the script is loaded, so what follows is counted alone
    const before = await scriptsRun();
    for (const id of ids) seen.rememberSoon(source, id);
    // Seen at once on this replica; another replica sees it once it is written.
    const otherReplica = new SeenMessagesRepository(redis, 3_600);
    expect(await seen.seen(source, ids[0]!)).toBe(true);
    expect(await seen.seenMany(source, [ids[1], 'never-sent'])).toEqual([true, false]);
    expect(await otherReplica.seen(source, ids[0]!)).toBe(false);
    await seen.flush();
    expect(await otherReplica.seen(source, ids[0]!)).toBe(true);
    expect(await scriptsRun()).toBe(before + 1);
    expect(await seen.seenMany(source, ids)).toEqual(ids.map(() => true));
    const ttl = await redis.ttl(`seen:${source}:message-7`);
    expect(ttl).toBeGreaterThan(3_500);
    expect(ttl).toBeLessThanOrEqual(3_600);
  });

  it('asks Redis once for the checks of calls arriving together, each answered for its own id', async () => {
    const seen = new SeenMessagesRepository(redis, 3_600);
    const source = uniqueName('source');
    await redis.set(`seen:${source}:old-3`, '1');
    await redis.set(`seen:${source}:old-17`, '1');
    const before = await commandsRun('mget', 'get', 'exists');

    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => seen.seen(source, `old-${i}`)));

    expect(answers.flatMap((wasSeen, i) => (wasSeen ? [i] : []))).toEqual([3, 17]);
    expect(await commandsRun('mget', 'get', 'exists')).toBe(before + 1);
  });

  it('records a batch’s messageIds with one script, each for the window', async () => {
    const seen = new SeenMessagesRepository(redis, 120);
    const source = uniqueName('source');
    const ids = Array.from({ length: 250 }, (_, i) => `batch-${i}`);
    await seen.rememberMany(source, ['warm-up']); // the script is loaded, so what follows is counted alone
    const before = await scriptsRun();

    await seen.rememberMany(source, ids);

    expect(await scriptsRun()).toBe(before + 1);
    expect(await seen.seenMany(source, [...ids, 'never-sent'])).toEqual([...ids.map(() => true), false]);
    expect(await redis.ttl(`seen:${source}:batch-249`)).toBeGreaterThan(100);
  });

  it('writes what waits on its own within milliseconds, and on shutdown', async () => {
    const seen = new SeenMessagesRepository(redis, 60);
    const source = uniqueName('source');
    seen.rememberSoon(source, 'soon');
    await waitFor('the record to be written on its own', () => seen.seen(source, 'soon'), 10_000);
    seen.rememberSoon(source, 'at-shutdown');
    await seen.onModuleDestroy();
    expect(await seen.seen(source, 'at-shutdown')).toBe(true);
  });
});
