import { randomUUID } from 'node:crypto';
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
    infra = await startInfra({ nats: true, mongo: true });
    ingest = await bootService(
      ingestSpec({
        PORT: '0',
        NATS_URL: infra.natsUrl,
        MONGO_URL: `${infra.mongoUrl}/${uniqueName('ingest')}`,
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

  it('reports itself live and ready', async () => {
    expect((await fetch(`${ingest.url}/health/live`)).status).toBe(200);
    const ready = (await (await fetch(`${ingest.url}/health/ready`)).json()) as {
      status: string;
      info: object;
    };
    expect(ready.status).toBe('ok');
    expect(Object.keys(ready.info)).toEqual(['nats', 'mongodb']);
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
