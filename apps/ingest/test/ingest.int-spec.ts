import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { type TrackPayload } from '@mesh/contracts';
import {
  bootService,
  type BootedService,
  type Infra,
  MessageTap,
  startInfra,
  subjectCounts,
  uniqueName,
  waitFor,
} from '@mesh/testing';
import { ingestSpec } from '../src/ingest.app.js';

const WRITE_KEY = 'ingest-test-write-key-0123456789';

describe('ingest: the tracking API', () => {
  let infra: Infra;
  let ingest: BootedService;
  let tap: MessageTap;

  beforeAll(async () => {
    infra = await startInfra({ nats: true, mongo: true, redis: true });
    ingest = await bootService(
      ingestSpec({
        PORT: '0',
        NATS_URL: infra.natsUrl,
        MONGO_URL: `${infra.mongoUrl}/${uniqueName('ingest')}`,
        REDIS_URL: infra.redisUrl!,
        INGEST_PUBLISH_DEADLINE_MS: '3000',
        NATS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
        MESH_ADMIN_TOKEN: 'ingest-test-admin-token',
        MESH_DEMO_WRITE_KEY: WRITE_KEY,
        LOG_LEVEL: 'silent',
      }),
    );
    tap = await MessageTap.open(infra.natsUrl!, 'ingest.>');
  });

  afterAll(async () => {
    await tap?.close();
    await ingest?.close();
    await infra?.stop();
  });

  const post = (path: string, body: unknown, writeKey: string | null = WRITE_KEY) =>
    fetch(`${ingest.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(writeKey === undefined
          ? {}
          : { authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` }),
      },
      body: JSON.stringify(body),
    });

  it('accepts a track call with Segment’s answer and publishes it once, even when the SDK retries it', async () => {
    const messageId = randomUUID();
    const event = { userId: 'u-1', event: 'Product Added', properties: { product_id: 'sku-1' }, messageId };
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await post('/v1/track', event);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ success: true });
    }
    const published = await tap.next<TrackPayload>(
      'ingest.track',
      (message) => message.envelope.data.messageId === messageId,
    );
    expect(published.envelope).toMatchObject({
      type: 'track',
      source: 'demo',
      data: { event: 'Product Added', userId: 'u-1' },
    });
    expect(published.headers['Nats-Msg-Id']).toBe(published.envelope.id);
    await waitFor(
      'the stream to hold it',
      async () => (await subjectCounts(infra.natsUrl!, 'INGEST'))['ingest.track'] === 1,
    );
  });

  it.each([
    ['/v1/page', 'ingest.page', { name: 'Home', category: 'Landing', properties: { url: 'https://shop/' } }],
    ['/v1/p', 'ingest.page', { name: 'Cart' }],
    ['/v1/screen', 'ingest.screen', { name: 'Settings' }],
    ['/v1/s', 'ingest.screen', { name: 'Home' }],
    ['/v1/group', 'ingest.group', { groupId: 'acme', traits: { plan: 'pro' } }],
    ['/v1/g', 'ingest.group', { groupId: 'acme' }],
    ['/v1/alias', 'ingest.alias', { previousId: 'anon-9' }],
    ['/v1/a', 'ingest.alias', { previousId: 'anon-8' }],
    ['/v1/i', 'ingest.identify', { traits: { email: 'a@example.com' } }],
    ['/v1/t', 'ingest.track', { event: 'Product Viewed' }],
  ])('accepts %s and publishes it on %s', async (path, subject, fields) => {
    const messageId = randomUUID();
    const response = await post(path, { userId: 'u-2', messageId, ...fields });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true });
    const published = await tap.next<Record<string, unknown>>(
      subject,
      (message) => message.envelope.data.messageId === messageId,
    );
    expect(published.envelope.data).toMatchObject({ userId: 'u-2', ...fields });
  });

  it('refuses a group without groupId and an alias without previousId, naming the field', async () => {
    const before = tap.messages().length;
    for (const [path, field] of [
      ['/v1/group', 'groupId'],
      ['/v1/alias', 'previousId'],
    ] as const) {
      const response = await post(path, { userId: 'u-3' });
      expect(response.status).toBe(400);
      expect(Object.keys(((await response.json()) as { fields: object }).fields)).toEqual([field]);
    }
    expect(tap.messages()).toHaveLength(before);
  });

  it('generates a messageId when none is sent and corrects the sender’s clock from sentAt', async () => {
    // The sender's clock is one hour ahead: its event happened 10 s before it was sent.
    const sentAt = new Date(Date.now() + 3_600_000);
    const timestamp = new Date(sentAt.getTime() - 10_000);
    const before = Date.now();
    const response = await post('/v1/track', {
      userId: 'u-skew',
      event: 'Skewed',
      timestamp: timestamp.toISOString(),
      sentAt: sentAt.toISOString(),
    });
    expect(response.status).toBe(200);
    const published = await tap.next<TrackPayload>(
      'ingest.track',
      (message) => message.envelope.data.userId === 'u-skew',
    );
    expect(published.envelope.data.messageId).toEqual(expect.any(String));
    const occurred = Date.parse(published.envelope.occurredAt);
    expect(occurred).toBeGreaterThanOrEqual(before - 10_000 - 1_000);
    expect(occurred).toBeLessThanOrEqual(Date.parse(published.envelope.receivedAt) - 10_000 + 1_000);
  });

  it('refuses a call without a valid write key', async () => {
    expect((await post('/v1/track', { userId: 'u', event: 'x' }, null)).status).toBe(401);
    expect((await post('/v1/track', { userId: 'u', event: 'x' }, 'not-a-key')).status).toBe(401);
  });

  it('answers bad input with 400 naming each field at fault, and publishes nothing', async () => {
    const before = tap.messages().length;
    const response = await post('/v1/track', { event: '', properties: 'nope', surprise: true });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { fields: Record<string, string[]> };
    expect(Object.keys(body.fields)).toEqual(
      expect.arrayContaining(['userId', 'event', 'properties', 'surprise']),
    );
    expect(tap.messages()).toHaveLength(before);
  });

  it('refuses timestamps that are not real instants and events without any identifier', async () => {
    for (const timestamp of ['2024-W01', '2024-02-30T10:00:00Z', 'yesterday']) {
      const response = await post('/v1/track', { userId: 'u', event: 'x', timestamp });
      expect(response.status).toBe(400);
      expect(Object.keys(((await response.json()) as { fields: object }).fields)).toEqual(['timestamp']);
    }
    const anonymous = await post('/v1/track', { anonymousId: null, event: 'x' });
    expect(anonymous.status).toBe(400);
    expect(Object.keys(((await anonymous.json()) as { fields: object }).fields)).toEqual(
      expect.arrayContaining(['userId', 'anonymousId']),
    );
  });

  const raw = (path: string, body: Buffer | string, headers: Record<string, string>) =>
    fetch(`${ingest.url}${path}`, { method: 'POST', headers, body });

  it('takes a server SDK’s batch whole: each call published once on its subject, the batch’s sentAt applied', async () => {
    const tag = randomUUID();
    const response = await post('/v1/batch', {
      sentAt: new Date().toISOString(),
      batch: [
        { type: 'identify', userId: `b-${tag}`, traits: { email: 'b@example.com' }, messageId: `${tag}-1` },
        { type: 'track', userId: `b-${tag}`, event: 'Product Viewed', properties: {}, messageId: `${tag}-2` },
        { type: 'page', anonymousId: `a-${tag}`, name: 'Home', messageId: `${tag}-3` },
      ],
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true });
    for (const [subject, id] of [
      ['ingest.identify', `${tag}-1`],
      ['ingest.track', `${tag}-2`],
      ['ingest.page', `${tag}-3`],
    ] as const) {
      await tap.next<Record<string, unknown>>(subject, (message) => message.envelope.data.messageId === id);
    }
  });

  it('refuses a batch with one bad call whole, naming the call’s field, and publishes none of it', async () => {
    const before = tap.messages().length;
    const response = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u-ok', event: 'Product Viewed' },
        { type: 'track', userId: 'u-bad' },
        { type: 'purchase', userId: 'u-bad' },
      ],
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { fields: Record<string, string[]> };
    expect(Object.keys(body.fields).sort()).toEqual(['batch.1.event', 'batch.2.type']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(tap.messages()).toHaveLength(before);
  });

  it('accepts a gzip-encoded batch, and the browser SDK’s text/plain body with the write key inside, with CORS headers', async () => {
    const tag = randomUUID();
    const gzipped = gzipSync(
      JSON.stringify({
        batch: [{ type: 'track', userId: 'gz', event: 'Cart Viewed', messageId: `${tag}-gz` }],
      }),
    );
    const zipped = await raw('/v1/batch', gzipped, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
    });
    expect(zipped.status).toBe(200);
    await tap.next<TrackPayload>(
      'ingest.track',
      (message) => message.envelope.data.messageId === `${tag}-gz`,
    );

    const browser = await raw(
      '/v1/t',
      JSON.stringify({
        writeKey: WRITE_KEY,
        userId: 'web',
        event: 'Product Viewed',
        messageId: `${tag}-web`,
      }),
      { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://shop.example' },
    );
    expect(browser.status).toBe(200);
    expect(browser.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    await tap.next<TrackPayload>(
      'ingest.track',
      (message) => message.envelope.data.messageId === `${tag}-web`,
    );
  });

  it('answers 413 for an event over 32 KB and 415 for a form body, publishing nothing', async () => {
    const before = tap.messages().length;
    const big = await post('/v1/track', {
      userId: 'u',
      event: 'Big',
      properties: { blob: 'x'.repeat(40_000) },
    });
    expect(big.status).toBe(413);
    const inBatch = await post('/v1/batch', {
      batch: [{ type: 'track', userId: 'u', event: 'Big', properties: { blob: 'x'.repeat(40_000) } }],
    });
    expect(inBatch.status).toBe(413);
    expect(((await inBatch.json()) as { fields: object }).fields).toHaveProperty(['batch.0']);
    const form = await raw('/v1/track', 'userId=u&event=x', {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
    });
    expect(form.status).toBe(415);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(tap.messages()).toHaveLength(before);
  });

  it('never crashes on arbitrary JSON, and publishes exactly one message per 200 and none otherwise', async () => {
    const event = fc.record(
      {
        userId: fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null)),
        anonymousId: fc.oneof(fc.string({ maxLength: 20 }), fc.constant(null)),
        event: fc.oneof(fc.string({ maxLength: 300 }), fc.integer()),
        properties: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue()),
        timestamp: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.string(),
        ),
        extra: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const valid = fc.record({
      userId: fc.string({ minLength: 1, maxLength: 50 }),
      event: fc.string({ minLength: 1, maxLength: 50 }),
      properties: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
    });
    const body = fc.oneof(valid, event, fc.jsonValue());
    const before = tap.messages().length;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('/v1/track', '/v1/t', '/v1/batch'), async (generated, path) => {
        const sent = path === '/v1/batch' ? { batch: [generated] } : generated;
        const response = await post(path, sent);
        expect([200, 400, 413]).toContain(response.status);
        if (response.status === 200) accepted++;
      }),
      { numRuns: 150 },
    );
    expect(accepted).toBeGreaterThan(0);
    await waitFor('every accepted call to be published', () => tap.messages().length - before === accepted);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(tap.messages().length - before).toBe(accepted);
  });

  it('accepts a messageId once per source within the dedup window, beyond the stream’s own duplicate window', async () => {
    const redis = new Redis(infra.redisUrl!);
    try {
      const messageId = randomUUID();
      // As if the SDK had sent it hours ago, long out of JetStream's duplicate window.
      await redis.set(`ingest:seen:demo:${messageId}`, '1', 'EX', 3600);
      const before = (await subjectCounts(infra.natsUrl!, 'INGEST'))['ingest.track'] ?? 0;
      const response = await post('/v1/track', { userId: 'u-old', event: 'Old', properties: {}, messageId });
      expect(response.status).toBe(200);
      const fresh = randomUUID();
      expect(
        (await post('/v1/track', { userId: 'u-new', event: 'New', properties: {}, messageId: fresh })).status,
      ).toBe(200);
      await tap.next<TrackPayload>('ingest.track', (message) => message.envelope.data.messageId === fresh);
      expect((await subjectCounts(infra.natsUrl!, 'INGEST'))['ingest.track']).toBe(before + 1);
      expect(
        tap.messages('ingest.track').some((m) => (m.envelope.data as TrackPayload).messageId === messageId),
      ).toBe(false);
      // Recorded within milliseconds of the stream's ack, with the other calls stored meanwhile.
      await waitFor(
        'the messageId to be recorded',
        async () => (await redis.ttl(`ingest:seen:demo:${fresh}`)) > 0,
      );
      const ttl = await redis.ttl(`ingest:seen:demo:${fresh}`);
      expect(ttl).toBeGreaterThan(24 * 3600 - 60);
      expect(ttl).toBeLessThanOrEqual(24 * 3600);
    } finally {
      await redis.quit();
    }
  });

  it('answers 503 within its deadline while NATS is down, records nothing, and takes the retry once NATS is back', async () => {
    const redis = new Redis(infra.redisUrl!);
    const messageId = randomUUID();
    const call = { userId: 'u-dedup', event: 'Order Completed', properties: {}, messageId };
    const before = (await subjectCounts(infra.natsUrl!, 'INGEST'))['ingest.track'] ?? 0;
    await infra.nats!.kill();
    try {
      const started = Date.now();
      const failed = await post('/v1/track', call);
      expect(failed.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(await redis.exists(`ingest:seen:demo:${messageId}`)).toBe(0);
    } finally {
      await infra.nats!.restart();
    }
    await waitFor(
      'the retry to be accepted',
      async () => (await post('/v1/track', call)).status === 200,
      60_000,
    );
    await waitFor(
      'the messageId to be recorded',
      async () => (await redis.exists(`ingest:seen:demo:${messageId}`)) === 1,
    );
    // The abandoned publish may have reached the stream on reconnect; the envelope id keeps it one.
    await waitFor(
      'the stream to hold the event once',
      async () => (await subjectCounts(infra.natsUrl!, 'INGEST'))['ingest.track'] === before + 1,
    );
    expect((await post('/v1/track', call)).status).toBe(200);
    expect((await subjectCounts(infra.natsUrl!, 'INGEST'))['ingest.track']).toBe(before + 1);
    await redis.quit();
  }, 120_000);

  it('reports itself live and ready', async () => {
    expect((await fetch(`${ingest.url}/health/live`)).status).toBe(200);
    const ready = (await (await fetch(`${ingest.url}/health/ready`)).json()) as {
      status: string;
      info: object;
    };
    expect(ready.status).toBe('ok');
    expect(Object.keys(ready.info).sort()).toEqual(['mongodb', 'nats', 'redis']);
  });

  it('reports itself not ready while its database is down, and ready again once it is back', async () => {
    await infra.mongo!.kill();
    const down = await fetch(`${ingest.url}/health/ready`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as { error: object }).error).toHaveProperty('mongodb');
    expect((await fetch(`${ingest.url}/health/live`)).status).toBe(200);

    await infra.mongo!.restart();
    await waitFor(
      'ready again',
      async () => (await fetch(`${ingest.url}/health/ready`)).status === 200,
      30_000,
    );
  });
});
