import { readFileSync } from 'node:fs';
import { type IdentifyPayload, type TrackPayload } from '@mesh/contracts';
import {
  bootService,
  type BootedService,
  type Infra,
  MessageTap,
  startInfra,
  subjectCounts,
  uniqueName,
} from '@mesh/testing';
import { ingestSpec } from '../src/ingest.app.js';
import { signWebhook } from '../src/webhooks/webhook-signature.js';

const ADMIN_TOKEN = 'ingest-webhooks-admin-token';
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8');

describe('ingest: signed webhooks', () => {
  let infra: Infra;
  let ingest: BootedService;
  let tap: MessageTap;
  const secrets: Record<string, string> = {};
  const writeKeys: Record<string, string> = {};

  beforeAll(async () => {
    infra = await startInfra({ nats: true, mongo: true, redis: true });
    ingest = await bootService(
      ingestSpec({
        PORT: '0',
        NATS_URL: infra.natsUrl,
        MONGO_URL: `${infra.mongoUrl}/${uniqueName('ingest')}`,
        REDIS_URL: infra.redisUrl,
        NATS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
        MESH_ADMIN_TOKEN: ADMIN_TOKEN,
        LOG_LEVEL: 'silent',
      }),
    );
    tap = await MessageTap.open(infra.natsUrl!, 'ingest.>');
    for (const [id, webhookMapping] of [
      ['shop', 'shopify'],
      ['woo', 'woocommerce'],
    ]) {
      const response = await fetch(`${ingest.url}/api/sources`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ id, name: id, webhookMapping }),
      });
      const created = (await response.json()) as { webhookSecret: string; writeKey: string };
      secrets[id!] = created.webhookSecret;
      writeKeys[id!] = created.writeKey;
    }
  });

  afterAll(async () => {
    await tap?.close();
    await ingest?.close();
    await infra?.stop();
  });

  const send = (
    sourceId: string,
    body: string,
    headers: Record<string, string>,
    { secret = secrets[sourceId]!, timestamp = Math.floor(Date.now() / 1000), signedBody = body } = {},
  ) =>
    fetch(`${ingest.url}/webhooks/${sourceId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-mesh-timestamp': String(timestamp),
        'x-mesh-signature': signWebhook(secret, timestamp, signedBody),
        ...headers,
      },
      body,
    });

  const trackCount = async () => (await subjectCounts(infra.natsUrl!, 'INGEST'))['ingest.track'] ?? 0;

  it('publishes a Shopify order as Order Completed once, even when Shopify retries the delivery', async () => {
    const body = fixture('shopify-orders-create');
    const headers = {
      'x-shopify-topic': 'orders/create',
      'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    };
    // Two distinct timestamps: the same one would sign the same bytes, which is a replay (409).
    const firstSentAt = Math.floor(Date.now() / 1000) - 5;
    const first = await send('shop', body, headers, { timestamp: firstSentAt });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ success: true, events: 1 });
    // Shopify's retry: same delivery id, signed afresh.
    const retry = await send('shop', body, headers, { timestamp: firstSentAt + 1 });
    expect(retry.status).toBe(200);

    const published = await tap.next<TrackPayload>(
      'ingest.track',
      (message) => message.envelope.source === 'shop',
    );
    expect(published.envelope).toMatchObject({
      type: 'track',
      source: 'shop',
      occurredAt: '2026-11-28T17:34:56.000Z',
      data: {
        userId: '7012345678901',
        event: 'Order Completed',
        context: { traits: { email: 'jon@example.com' } },
        properties: {
          order_id: '5912345678901',
          total: 403,
          revenue: 388,
          currency: 'USD',
          coupon: 'WELCOME10',
          products: [
            { product_id: '632910392', sku: 'IPOD2008PINK', price: 199, quantity: 1 },
            { product_id: '632910392', sku: 'IPOD2008PINK', price: 199, quantity: 1 },
          ],
        },
      },
    });
    // The retry is answered only after its outcome is stored: the 24 h dedup drops it before
    // publishing, and were it published, JetStream's duplicate window would drop the same id.
    const ids = new Set(
      tap
        .messages()
        .filter((m) => m.envelope.source === 'shop')
        .map((m) => m.envelope.id),
    );
    expect(ids.size).toBe(1);
    expect(await trackCount()).toBe(1);
  });

  it('publishes a WooCommerce customer.created as an identify with reserved traits', async () => {
    const response = await send('woo', fixture('woocommerce-customer-created'), {
      'x-wc-webhook-topic': 'customer.created',
      'x-wc-webhook-delivery-id': 'a1b2c3',
    });
    expect(response.status).toBe(200);
    const published = await tap.next<IdentifyPayload>(
      'ingest.identify',
      (message) => message.envelope.source === 'woo',
    );
    expect(published.envelope.data).toMatchObject({
      userId: '25',
      traits: {
        email: 'jane.roe@example.com',
        first_name: 'Jane',
        address: { city: 'Paris', country: 'FR' },
      },
    });
  });

  it('drops the webhook events of an erased person, answering 200 as for any other call', async () => {
    const erased = await fetch(`${ingest.url}/v1/privacy/erase`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${writeKeys.woo}:`).toString('base64')}`,
      },
      body: JSON.stringify({ email: 'Erased.Person@example.com' }),
    });
    expect(erased.status).toBe(202);
    const customer = (email: string, id: number) => {
      const body = JSON.parse(fixture('woocommerce-customer-created')) as Record<string, unknown>;
      return JSON.stringify({ ...body, id, email });
    };
    const identifies = async () => (await subjectCounts(infra.natsUrl!, 'INGEST'))['ingest.identify'] ?? 0;
    const before = await identifies();
    const headers = (deliveryId: string) => ({
      'x-wc-webhook-topic': 'customer.created',
      'x-wc-webhook-delivery-id': deliveryId,
    });
    expect((await send('woo', customer('erased.person@example.com', 901), headers('erased-1'))).status).toBe(
      200,
    );
    expect((await send('woo', customer('kept.person@example.com', 902), headers('kept-1'))).status).toBe(200);
    // The call after it is published; the erased person's, answered the same, never is.
    await tap.next<IdentifyPayload>('ingest.identify', (message) => message.envelope.data.userId === '902');
    expect(await identifies()).toBe(before + 1);
    expect(
      tap
        .messages('ingest.identify')
        .some((message) => (message.envelope.data as IdentifyPayload).userId === '901'),
    ).toBe(false);
  });

  it('refuses a wrong secret, a stale timestamp, a tampered body and a replay, publishing nothing', async () => {
    const body = fixture('woocommerce-order-created');
    const headers = { 'x-wc-webhook-topic': 'order.created' };
    const before = tap.messages().length;
    const wrongSecret = await send('woo', body, headers, { secret: 'whsec_wrong' });
    expect(wrongSecret.status).toBe(401);
    expect(await wrongSecret.json()).toMatchObject({ reason: 'bad_signature' });
    const stale = await send('woo', body, headers, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(((await stale.json()) as { reason: string }).reason).toBe('stale_timestamp');
    expect(stale.status).toBe(401);
    const tampered = await send('woo', body.replace('"total": "35.35"', '"total": "0.01"'), headers, {
      signedBody: body,
    });
    expect(tampered.status).toBe(401);
    const unsigned = await fetch(`${ingest.url}/webhooks/woo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    expect(unsigned.status).toBe(401);
    expect((await send('nope', body, headers, { secret: 'x' })).status).toBe(401);
    expect(tap.messages()).toHaveLength(before);

    const timestamp = Math.floor(Date.now() / 1000);
    expect((await send('woo', body, headers, { timestamp })).status).toBe(200);
    const replay = await send('woo', body, headers, { timestamp });
    expect(replay.status).toBe(409);
    expect(await replay.json()).toMatchObject({ error: 'replayed' });
    const guest = await tap.next<TrackPayload>(
      'ingest.track',
      (message) => message.envelope.source === 'woo',
    );
    expect(guest.envelope.data).toMatchObject({
      anonymousId: 'wc_order_58d2d042d1d',
      event: 'Order Completed',
      properties: { order_id: '727', total: 35.35, currency: 'EUR' },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      tap
        .messages()
        .filter((message) => message.envelope.source === 'woo' && message.subject === 'ingest.track'),
    ).toHaveLength(1);
  });

  it('answers 422 naming the field when a webhook maps to no valid call, and 200 with no event for an unmapped topic', async () => {
    const order = JSON.parse(fixture('shopify-orders-create')) as Record<string, unknown>;
    delete order.customer;
    delete order.token;
    const unmappable = await send('shop', JSON.stringify(order), { 'x-shopify-topic': 'orders/create' });
    expect(unmappable.status).toBe(422);
    expect(Object.keys(((await unmappable.json()) as { fields: object }).fields)).toEqual([
      'events.0.userId',
    ]);

    const ignored = await send('shop', '{"id":1}', { 'x-shopify-topic': 'products/update' });
    expect(ignored.status).toBe(200);
    expect(await ignored.json()).toEqual({ success: true, events: 0 });
  });

  it('reads a source with its own mapping, set and checked through the admin API', async () => {
    const admin = (method: string, path: string, body: unknown) =>
      fetch(`${ingest.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify(body),
      });
    const mapping = {
      name: 'billing',
      topicHeader: 'X-Billing-Event',
      deliveryIdHeader: 'X-Billing-Delivery',
      rules: [
        {
          topic: 'invoice.paid',
          type: 'track',
          event: 'Order Completed',
          userId: '$.data.account.external_id',
          timestamp: { path: '$.data.paid_at', as: 'timestamp' },
          contextTraits: { email: '$.data.account.email' },
          properties: {
            order_id: { path: '$.data.number', as: 'string' },
            total: { path: '$.data.total', as: 'number' },
            currency: '$.data.currency',
            channel: { value: 'billing' },
            products: {
              path: '$.data.lines[*]',
              each: { sku: '$.sku', quantity: { path: '$.qty', as: 'number' } },
            },
          },
        },
        {
          topic: 'account.updated',
          type: 'identify',
          userId: '$.data.account.external_id',
          traits: { plan: '$.data.plan', email: '$.data.account.email' },
        },
      ],
    };

    // A mapping that is not valid is refused, every fault named with its place.
    const bad = await admin('POST', '/api/sources', {
      id: 'billing-bad',
      name: 'billing',
      webhookMapping: {
        rules: [
          { topic: 'invoice.paid', type: 'purchase', userId: 'data.id', properties: { 'a.b': '$.x' } },
          { topic: 'x', type: 'track', userId: '$.id', properties: { total: { path: '$.t', as: 'money' } } },
        ],
      },
    });
    expect(bad.status).toBe(400);
    const badFields = ((await bad.json()) as { fields: Record<string, string[]> }).fields;
    const messages = badFields.webhookMapping!.join('\n');
    expect(messages).toContain('webhookMapping.rules.0.type must be track or identify');
    expect(messages).toContain('webhookMapping.rules.0.userId must be a JSONPath starting with $');
    expect(messages).toContain('webhookMapping.rules.0.properties.a.b');
    expect(messages).toContain(
      'webhookMapping.rules.1.properties.total.as must be one of number, string, timestamp',
    );
    expect(
      (await admin('POST', '/api/sources', { id: 'billing-bad', name: 'b', webhookMapping: 'stripe' }))
        .status,
    ).toBe(400);
    expect(
      (
        await fetch(`${ingest.url}/api/sources/billing-bad`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        })
      ).status,
    ).toBe(404);

    // Set on creation with an identify rule only, then replaced by PATCH with the full mapping.
    const created = await admin('POST', '/api/sources', {
      id: 'billing',
      name: 'Billing',
      webhookMapping: { ...mapping, rules: [mapping.rules[1]] },
    });
    expect(created.status).toBe(201);
    secrets.billing = ((await created.json()) as { webhookSecret: string }).webhookSecret;
    const badPatch = await admin('PATCH', '/api/sources/billing', { webhookMapping: { rules: [] } });
    expect(badPatch.status).toBe(400);
    expect(JSON.stringify(await badPatch.json())).toContain(
      'webhookMapping.rules must be a list of 1-50 rules',
    );
    const patched = await admin('PATCH', '/api/sources/billing', { webhookMapping: mapping });
    expect(patched.status).toBe(200);
    expect(
      ((await patched.json()) as { webhookMapping: { topicHeader: string } }).webhookMapping.topicHeader,
    ).toBe('x-billing-event');

    const invoice = JSON.stringify({
      data: {
        number: 1042,
        total: '59.90',
        currency: 'EUR',
        paid_at: '2026-11-28T09:30:00',
        account: { external_id: 'acct-77', email: 'billing@example.com' },
        lines: [
          { sku: 'PLAN-PRO', qty: 1 },
          { sku: 'SEAT', qty: '3' },
        ],
      },
    });
    const response = await send('billing', invoice, {
      'x-billing-event': 'invoice.paid',
      'x-billing-delivery': 'dlv-1',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true, events: 1 });
    const published = await tap.next<TrackPayload>(
      'ingest.track',
      (message) => message.envelope.source === 'billing',
    );
    expect(published.envelope.occurredAt).toBe('2026-11-28T09:30:00.000Z');
    expect(published.envelope.data).toMatchObject({
      userId: 'acct-77',
      event: 'Order Completed',
      context: { traits: { email: 'billing@example.com' } },
      properties: {
        order_id: '1042',
        total: 59.9,
        currency: 'EUR',
        channel: 'billing',
        products: [
          { sku: 'PLAN-PRO', quantity: 1 },
          { sku: 'SEAT', quantity: 3 },
        ],
      },
    });
  });
});
