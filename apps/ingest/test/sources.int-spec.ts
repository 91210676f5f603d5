import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import {
  bootService,
  type BootedService,
  type Infra,
  MessageTap,
  startInfra,
  uniqueName,
  waitFor,
} from '@mesh/testing';
import { ingestSpec } from '../src/ingest.app.js';

const ADMIN_TOKEN = 'ingest-sources-admin-token';
const GRACE_SECONDS = 8;

describe('ingest: sources admin API', () => {
  let infra: Infra;
  let ingest: BootedService;
  let tap: MessageTap;
  let database: string;

  beforeAll(async () => {
    infra = await startInfra({ nats: true, mongo: true, redis: true });
    database = uniqueName('ingest');
    ingest = await bootService(
      ingestSpec({
        PORT: '0',
        NATS_URL: infra.natsUrl,
        MONGO_URL: `${infra.mongoUrl}/${database}`,
        REDIS_URL: infra.redisUrl,
        NATS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
        MESH_ADMIN_TOKEN: ADMIN_TOKEN,
        INGEST_SECRET_KEY: 'ab'.repeat(32),
        INGEST_KEY_ROTATION_GRACE_SECONDS: String(GRACE_SECONDS),
        INGEST_AUTH_FAILURES_PER_MINUTE_PER_IP: '5',
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

  const admin = (method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN) =>
    fetch(`${ingest.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const track = (writeKey: string, event = 'Product Viewed', ip?: string) =>
    fetch(`${ingest.url}/v1/track`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(ip === undefined ? {} : { 'x-forwarded-for': ip }),
        authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
      },
      body: JSON.stringify({ userId: 'u-admin', event, messageId: randomUUID() }),
    });

  type Created = { source: { id: string; enabled: boolean }; writeKey: string; webhookSecret: string };
  const createSource = async (id: string, extra: object = {}): Promise<Created> => {
    const response = await admin('POST', '/api/sources', { id, name: `Source ${id}`, ...extra });
    expect(response.status).toBe(201);
    return (await response.json()) as Created;
  };

  it('refuses admin calls without the admin bearer token', async () => {
    expect((await admin('GET', '/api/sources', undefined, null)).status).toBe(401);
    expect((await admin('GET', '/api/sources', undefined, 'wrong-token')).status).toBe(401);
    expect((await admin('POST', '/api/sources', { id: 'x', name: 'X' }, 'wrong')).status).toBe(401);
  });

  it('creates a source whose write key works at once, shows the key once and stores neither key nor secret in clear', async () => {
    const created = await createSource('shop-eu', { rateLimitPerSecond: 50, webhookMapping: 'shopify' });
    expect(created.writeKey).toMatch(/^wk_/);
    expect(created.webhookSecret).toMatch(/^whsec_/);
    expect(created.source).toMatchObject({
      id: 'shop-eu',
      name: 'Source shop-eu',
      enabled: true,
      rateLimitPerSecond: 50,
      webhookMapping: 'shopify',
      hasWebhookSecret: true,
    });
    expect((await track(created.writeKey)).status).toBe(200);
    await tap.next('ingest.track', (message) => message.envelope.source === 'shop-eu');

    const read = await admin('GET', '/api/sources/shop-eu');
    expect(read.status).toBe(200);
    const text = await read.text();
    expect(text).not.toContain(created.writeKey);
    expect(text).not.toContain(created.webhookSecret);
    const listed = (await (await admin('GET', '/api/sources')).json()) as { sources: { id: string }[] };
    expect(listed.sources.map((source) => source.id)).toContain('shop-eu');

    const client = await MongoClient.connect(infra.mongoUrl!);
    try {
      const stored = JSON.stringify(
        await client
          .db(database)
          .collection('sources')
          .findOne({ _id: 'shop-eu' as never }),
      );
      expect(stored).not.toContain(created.writeKey);
      expect(stored).not.toContain(created.webhookSecret.slice('whsec_'.length));
    } finally {
      await client.close();
    }
  });

  it('answers bad requests naming the field, a taken id with 409 and an unknown id with 404', async () => {
    const bad = await admin('POST', '/api/sources', {
      id: 'Bad Id!',
      name: '',
      rateLimitPerSecond: 0,
      webhookMapping: 'x',
      extra: 1,
    });
    expect(bad.status).toBe(400);
    const { fields } = (await bad.json()) as { fields: Record<string, string[]> };
    expect(Object.keys(fields).sort()).toEqual([
      'extra',
      'id',
      'name',
      'rateLimitPerSecond',
      'webhookMapping',
    ]);

    await createSource('crm-1');
    const taken = await admin('POST', '/api/sources', { id: 'crm-1', name: 'Again' });
    expect(taken.status).toBe(409);
    expect(((await taken.json()) as { fields: object }).fields).toHaveProperty('id');

    expect((await admin('GET', '/api/sources/nope')).status).toBe(404);
    expect((await admin('POST', '/api/sources/nope/write-key/rotate')).status).toBe(404);
    expect((await admin('PATCH', '/api/sources/crm-1', { enabled: 'no' })).status).toBe(400);
  });

  it('refuses a disabled source’s key with 401 and publishes nothing, and takes it again once re-enabled', async () => {
    const { writeKey } = await createSource('app-ios');
    const disabled = await admin('POST', '/api/sources/app-ios/disable');
    expect(disabled.status).toBe(200);
    expect(((await disabled.json()) as { enabled: boolean }).enabled).toBe(false);
    const before = tap.messages().length;
    expect((await track(writeKey)).status).toBe(401);

    const patched = await admin('PATCH', '/api/sources/app-ios', { enabled: true, rateLimitPerSecond: 10 });
    expect(await patched.json()).toMatchObject({ enabled: true, rateLimitPerSecond: 10 });
    expect((await track(writeKey)).status).toBe(200);
    await waitFor('the re-enabled source’s event', () => tap.messages().length === before + 1);
  });

  it('rotates a write key: the new one works at once, the old one until its grace period ends', async () => {
    const { writeKey: oldKey } = await createSource('pos');
    const rotation = await admin('POST', '/api/sources/pos/write-key/rotate');
    expect(rotation.status).toBe(200);
    const { writeKey: newKey, previousValidUntil } = (await rotation.json()) as {
      writeKey: string;
      previousValidUntil: string;
    };
    expect(newKey).not.toBe(oldKey);
    expect(Date.parse(previousValidUntil) - Date.now()).toBeLessThanOrEqual(GRACE_SECONDS * 1000);
    expect((await track(newKey)).status).toBe(200);
    expect((await track(oldKey)).status).toBe(200);
    await waitFor('the old key to expire', async () => (await track(oldKey)).status === 401, 30_000);
    expect((await track(newKey)).status).toBe(200);
  });

  it('rotates a webhook secret and shows the new one once', async () => {
    const { webhookSecret } = await createSource('shop-us', { webhookMapping: 'woocommerce' });
    const rotation = await admin('POST', '/api/sources/shop-us/webhook-secret/rotate');
    expect(rotation.status).toBe(200);
    const rotated = (await rotation.json()) as { webhookSecret: string };
    expect(rotated.webhookSecret).toMatch(/^whsec_/);
    expect(rotated.webhookSecret).not.toBe(webhookSecret);
  });

  it('leaves RateLimit headers off answers while a source is well below its limit', async () => {
    await createSource('roomy', { rateLimitPerSecond: 1_000 });
    const { writeKey } = (await (await admin('POST', '/api/sources/roomy/write-key/rotate')).json()) as {
      writeKey: string;
    };
    const response = await track(writeKey, 'Roomy');
    expect(response.status).toBe(200);
    expect(response.headers.get('ratelimit-limit')).toBeNull();
    expect(response.headers.get('ratelimit-remaining')).toBeNull();
  });

  it('answers 429 with Retry-After and RateLimit headers over a source’s limit, and publishes exactly the accepted calls', async () => {
    await createSource('burst', { rateLimitPerSecond: 2 });
    const { writeKey } = (await (await admin('POST', '/api/sources/burst/write-key/rotate')).json()) as {
      writeKey: string;
    };
    const responses = await Promise.all(Array.from({ length: 20 }, () => track(writeKey, 'Burst')));
    const accepted = responses.filter((response) => response.status === 200);
    const limited = responses.filter((response) => response.status === 429);
    expect(accepted.length + limited.length).toBe(20);
    expect(limited.length).toBeGreaterThan(0);
    const refusal = limited[0]!;
    expect(Number(refusal.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refusal.headers.get('ratelimit-limit')).toBe('2');
    expect(refusal.headers.get('ratelimit-remaining')).toBe('0');
    expect(await refusal.json()).toMatchObject({ error: 'rate_limited' });
    expect(accepted[0]!.headers.get('ratelimit-limit')).toBe('2'); // half its limit used by then

    const fromBurst = () => tap.messages().filter((message) => message.envelope.source === 'burst').length;
    await waitFor('every accepted call to be published', () => fromBurst() === accepted.length);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fromBurst()).toBe(accepted.length);
    await waitFor(
      'the next window to take calls again',
      async () => (await track(writeKey)).status === 200,
      30_000,
    );
  });

  it('answers 429 to an IP after too many refused write keys, while other IPs go on', async () => {
    const { writeKey } = await createSource('guessed');
    const guesser = '203.0.113.7';
    for (let attempt = 0; attempt < 6; attempt++) {
      expect((await track(`wk_guess-${attempt}`, 'Guess', guesser)).status).toBe(401);
    }
    const blocked = await track(writeKey, 'Blocked', guesser);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await track(writeKey, 'Elsewhere', '198.51.100.9')).status).toBe(200);
  });

  it('describes its HTTP API in OpenAPI at /docs, request bodies from the DTOs', async () => {
    const page = await fetch(`${ingest.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const document = (await (await fetch(`${ingest.url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { security?: object[] }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    };
    for (const path of [
      '/v1/track',
      '/v1/batch',
      '/v1/identify',
      '/api/sources',
      '/api/sources/{id}',
      '/webhooks/{sourceId}',
    ]) {
      expect(Object.keys(document.paths)).toContain(path);
    }
    expect(document.paths['/v1/track']!.post!.security).toEqual([{ writeKey: [] }]);
    expect(document.paths['/api/sources']!.post!.security).toEqual([{ admin: [] }]);
    expect(document.components.schemas.TrackRequestDto!.required).toContain('event');
    expect(Object.keys(document.components.schemas.CreateSourceDto!.properties!)).toEqual(
      expect.arrayContaining(['id', 'name', 'rateLimitPerSecond', 'webhookMapping']),
    );
  });
});
