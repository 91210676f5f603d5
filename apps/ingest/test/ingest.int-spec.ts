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
