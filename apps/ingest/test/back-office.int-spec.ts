import { randomUUID } from 'node:crypto';
import {
  type ConsentPayload,
  type EraseDonePayload,
  type EraseRequestedPayload,
  type IdentifyPayload,
  originEnvelope,
  type ServiceName,
} from '@mesh/contracts';
import {
  bootService,
  type BootedService,
  type Infra,
  MessageTap,
  publishCopy,
  startInfra,
  subjectCounts,
  uniqueName,
  waitFor,
} from '@mesh/testing';
import { ingestSpec } from '../src/ingest.app.js';
import { ErasedIdentities } from '../src/privacy/erased-identities.js';

const WRITE_KEY = 'privacy-test-write-key-0123456789';

interface EraseStatus {
  requestId: string;
  complete: boolean;
  confirmed: { service: ServiceName; removed: Record<string, number> }[];
  pending: ServiceName[];
}

describe('ingest: consent, erasure requests and customer updates', () => {
  let infra: Infra;
  let ingest: BootedService;
  let tap: MessageTap;
  let mongoUrl: string;

  const boot = (extra: Record<string, string> = {}) =>
    bootService(
      ingestSpec({
        ...extra,
        PORT: '0',
        NATS_URL: infra.natsUrl,
        MONGO_URL: mongoUrl,
        REDIS_URL: infra.redisUrl!,
        NATS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
        MESH_ADMIN_TOKEN: 'ingest-test-admin-token',
        MESH_DEMO_WRITE_KEY: WRITE_KEY,
        INGEST_ERASING_SERVICES: 'identity,delivery',
        LOG_LEVEL: 'silent',
      }),
    );

  beforeAll(async () => {
    infra = await startInfra({ nats: true, mongo: true, redis: true });
    mongoUrl = `${infra.mongoUrl}/${uniqueName('ingest')}`;
    ingest = await boot();
    tap = await MessageTap.open(infra.natsUrl!, '>');
  });

  afterAll(async () => {
    await tap?.close();
    await ingest?.close();
    await infra?.stop();
  });

  const auth = (writeKey: string) => `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  const post = (path: string, body: unknown, writeKey = WRITE_KEY) =>
    fetch(`${ingest.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth(writeKey) },
      body: JSON.stringify(body),
    });
  const status = async (requestId: string, writeKey = WRITE_KEY) =>
    fetch(`${ingest.url}/v1/privacy/erase/${requestId}`, { headers: { authorization: auth(writeKey) } });

  it('records an email opt-out on ingest.consent with source and time, once per messageId', async () => {
    const messageId = randomUUID();
    const body = {
      messageId,
      userId: 'u-consent',
      email: 'ada@example.com',
      channel: 'email',
      status: 'opted_out',
      source: 'preference-center',
      at: '2026-11-28T10:00:00.000Z',
    };
    expect((await post('/v1/consent', body)).status).toBe(200);
    expect((await post('/v1/consent', body)).status).toBe(200);
    const published = await tap.next<ConsentPayload>(
      'ingest.consent',
      (message) => message.envelope.data.messageId === messageId,
    );
    expect(published.envelope).toMatchObject({
      type: 'consent',
      source: 'demo',
      occurredAt: '2026-11-28T10:00:00.000Z',
      data: {
        userId: 'u-consent',
        consent: { channel: 'email', status: 'opted_out', source: 'preference-center', at: body.at },
        traits: { email: 'ada@example.com' },
      },
    });
    expect(
      tap.messages('ingest.consent').filter((m) => m.envelope.id === published.envelope.id),
    ).toHaveLength(1);
  });

  it('refuses a consent statement without an identifier or with an unknown status, naming the field', async () => {
    const before = tap.messages('ingest.consent').length;
    const noId = await post('/v1/consent', { channel: 'email', status: 'opted_in' });
    expect(noId.status).toBe(400);
    expect(JSON.stringify(await noId.json())).toContain('userId');
    const badStatus = await post('/v1/consent', { userId: 'u', channel: 'email', status: 'maybe' });
    expect(badStatus.status).toBe(400);
    expect(JSON.stringify(await badStatus.json())).toContain('status');
    expect(
      (
        await post(
          '/v1/consent',
          { userId: 'u', channel: 'email', status: 'opted_in' },
          'wrong-key-0123456789',
        )
      ).status,
    ).toBe(401);
    expect(tap.messages('ingest.consent').length).toBe(before);
  });

  it('publishes an erasure request and shows which services confirmed it and which are pending', async () => {
    const response = await post('/v1/privacy/erase', { userId: 'u-erase', email: 'erase@example.com' });
    expect(response.status).toBe(202);
    const { requestId } = (await response.json()) as { requestId: string };
    const requested = await tap.next<EraseRequestedPayload>(
      'privacy.erase.requested',
      (message) => message.envelope.data.requestId === requestId,
    );
    expect(requested.envelope.data.identifiers).toEqual([
      { type: 'user_id', value: 'u-erase' },
      { type: 'email', value: 'erase@example.com' },
    ]);

    const initial = (await (await status(requestId)).json()) as EraseStatus;
    expect(initial).toMatchObject({
      requestId,
      complete: false,
      confirmed: [],
      pending: ['identity', 'delivery'],
    });

    const receipt = (service: ServiceName, removed: Record<string, number>) =>
      originEnvelope<EraseDonePayload>({
        id: `receipt-${service}-${requestId}`,
        type: 'privacy.erase.done',
        source: service,
        occurredAt: new Date().toISOString(),
        data: { requestId, service, removed, durationMs: 12 },
      });
    // The identity receipt delivered twice (a redelivery), then delivery's: one receipt each.
    const identity = receipt('identity', { identifiers: 2, profiles: 1 });
    await publishCopy(infra.natsUrl!, 'privacy.erase.done.identity', identity, 'copy-1');
    await publishCopy(infra.natsUrl!, 'privacy.erase.done.identity', identity, 'copy-2');
    await waitFor('the identity receipt', async () => {
      const current = (await (await status(requestId)).json()) as EraseStatus;
      return current.confirmed.length === 1;
    });
    await publishCopy(infra.natsUrl!, 'privacy.erase.done.delivery', receipt('delivery', { sends: 3 }));
    await waitFor('erasure to be complete', async () => {
      const current = (await (await status(requestId)).json()) as EraseStatus;
      return current.complete;
    });
    const done = (await (await status(requestId)).json()) as EraseStatus;
    expect(done.pending).toEqual([]);
    expect(done.confirmed.map((entry) => entry.service).sort()).toEqual(['delivery', 'identity']);
    expect(done.confirmed.find((entry) => entry.service === 'identity')?.removed).toEqual({
      identifiers: 2,
      profiles: 1,
    });
  });

  it('publishes a retried erasure request (same requestId) once, and refuses one without userId or email', async () => {
    const requestId = `req-${randomUUID()}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await post('/v1/privacy/erase', { requestId, email: 'again@example.com' });
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ requestId });
    }
    await tap.next(
      'privacy.erase.requested',
      (m) => (m.envelope.data as EraseRequestedPayload).requestId === requestId,
    );
    const bad = await post('/v1/privacy/erase', { email: 'not-an-address' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('email');
    expect((await status('no-such-request')).status).toBe(404);
  });

  it('turns a customer attribute update into an identify for that user id, once per messageId', async () => {
    const messageId = randomUUID();
    const update = {
      traits: { plan: 'gold', lifetime_value: 1234.5 },
      messageId,
      timestamp: '2026-11-27T08:00:00.000Z',
    };
    const stored = async () => (await subjectCounts(infra.natsUrl!, 'INGEST'))['ingest.identify'] ?? 0;
    const before = await stored();
    expect((await post('/api/customers/crm-42', update)).status).toBe(200);
    expect((await post('/api/customers/crm-42', update)).status).toBe(200);
    const published = await tap.next<IdentifyPayload>(
      'ingest.identify',
      (message) => message.envelope.data.messageId === messageId,
    );
    expect(published.envelope).toMatchObject({
      type: 'identify',
      source: 'demo',
      occurredAt: '2026-11-27T08:00:00.000Z',
      data: { userId: 'crm-42', traits: { plan: 'gold', lifetime_value: 1234.5 } },
    });
    // Once in the stream: by the dedup record, or (the record being written within milliseconds of
    // the first call's ack) by the stream's own duplicate window on the envelope id.
    expect(await stored()).toBe(before + 1);
  });

  it('refuses a customer update without traits, with unknown fields, over 32 KB or without a write key', async () => {
    const before = tap.messages('ingest.identify').length;
    const noTraits = await post('/api/customers/crm-1', { messageId: 'x' });
    expect(noTraits.status).toBe(400);
    expect(JSON.stringify(await noTraits.json())).toContain('traits');
    const unknown = await post('/api/customers/crm-1', { traits: {}, plan: 'gold' });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toContain('plan');
    const large = await post('/api/customers/crm-1', { traits: { notes: 'x'.repeat(40 * 1024) } });
    expect(large.status).toBe(413);
    expect((await post('/api/customers/crm-1', { traits: {} }, 'wrong-key-0123456789')).status).toBe(401);
    expect(tap.messages('ingest.identify').length).toBe(before);
  });

  it('drops new events of an erased user id or address, survives a restart, and takes them again after an opt-in', async () => {
    const track = (userId: string, extra: Record<string, unknown> = {}) => {
      const messageId = randomUUID();
      return { messageId, body: { messageId, userId, event: 'Product Viewed', ...extra } };
    };
    /** Sends the calls, then a marker from someone else: once the marker is on the stream, the calls would be too. */
    const publishedOf = async (calls: { path: string; messageId: string; body: unknown }[]) => {
      for (const call of calls) expect((await post(call.path, call.body)).status).toBe(200);
      const marker = track('u-bystander');
      expect((await post('/v1/track', marker.body)).status).toBe(200);
      await tap.next(
        'ingest.track',
        (m) => (m.envelope.data as { messageId: string }).messageId === marker.messageId,
      );
      const ids = new Set(calls.map((call) => call.messageId));
      return tap
        .messages()
        .filter((m) => ids.has((m.envelope.data as { messageId?: string }).messageId ?? ''))
        .map((m) => (m.envelope.data as { messageId: string }).messageId);
    };

    const erased = await post('/v1/privacy/erase', { userId: 'u-forgotten', email: 'Forgotten@Example.com' });
    expect(erased.status).toBe(202);
    const byUser = track('u-forgotten');
    const byEmailInContext = track('u-other-device', {
      context: { traits: { email: 'forgotten@example.com ' } },
    });
    const byIdentify = { messageId: randomUUID(), body: {} as Record<string, unknown> };
    byIdentify.body = {
      messageId: byIdentify.messageId,
      anonymousId: 'anon-9',
      traits: { email: 'FORGOTTEN@example.com' },
    };
    const inBatch = track('u-forgotten');
    const neighbour = track('u-neighbour');
    const dropped = await publishedOf([
      { path: '/v1/track', ...byUser },
      { path: '/v1/track', ...byEmailInContext },
      { path: '/v1/identify', ...byIdentify },
      {
        path: '/v1/batch',
        messageId: inBatch.messageId,
        body: {
          batch: [
            { type: 'track', ...inBatch.body },
            { type: 'track', ...neighbour.body },
          ],
        },
      },
      {
        path: '/api/customers/u-forgotten',
        messageId: 'crm-forgotten',
        body: { traits: { plan: 'gold' }, messageId: 'crm-forgotten' },
      },
    ]);
    // Nothing of the erased person is on the stream; the neighbour in the same batch is.
    expect(dropped).toEqual([]);
    await tap.next(
      'ingest.track',
      (m) => (m.envelope.data as { messageId: string }).messageId === neighbour.messageId,
    );

    // The block is in MongoDB, as keyed hashes only: a restarted ingest still drops the person's events.
    const stored = JSON.stringify(
      await (
        await import('mongodb')
      ).MongoClient.connect(mongoUrl).then(async (client) => {
        try {
          return await client.db().collection('erased_identities').find({}).toArray();
        } finally {
          await client.close();
        }
      }),
    );
    expect(stored).not.toContain('forgotten');
    expect(stored).not.toContain('Forgotten');
    await ingest.close();
    ingest = await boot();
    expect(await publishedOf([{ path: '/v1/track', ...track('u-forgotten') }])).toEqual([]);

    // An opt-out does not lift the block; an opt-in by user id does, an opt-in by address lifts the address.
    const optOut = { userId: 'u-forgotten', channel: 'email', status: 'opted_out' };
    expect((await post('/v1/consent', optOut)).status).toBe(200);
    expect(await publishedOf([{ path: '/v1/track', ...track('u-forgotten') }])).toEqual([]);
    expect((await post('/v1/consent', { ...optOut, status: 'opted_in' })).status).toBe(200);
    const again = track('u-forgotten');
    const stillByEmail = track('u-other-device', { context: { traits: { email: 'forgotten@example.com' } } });
    expect(
      await publishedOf([
        { path: '/v1/track', ...again },
        { path: '/v1/track', ...stillByEmail },
      ]),
    ).toEqual([again.messageId]);
    expect(
      (
        await post('/v1/consent', {
          anonymousId: 'anon-9',
          email: 'forgotten@example.com',
          channel: 'email',
          status: 'opted_in',
        })
      ).status,
    ).toBe(200);
    const byEmailAgain = track('u-other-device', { context: { traits: { email: 'forgotten@example.com' } } });
    expect(await publishedOf([{ path: '/v1/track', ...byEmailAgain }])).toEqual([byEmailAgain.messageId]);
  });

  it('does not lift an erasure with an opt-in stated before it', async () => {
    expect((await post('/v1/privacy/erase', { userId: 'u-backdated' })).status).toBe(202);
    const consent = {
      userId: 'u-backdated',
      channel: 'email',
      status: 'opted_in',
      at: '2020-01-01T00:00:00.000Z',
    };
    expect((await post('/v1/consent', consent)).status).toBe(200);
    const messageId = randomUUID();
    expect(
      (await post('/v1/track', { messageId, userId: 'u-backdated', event: 'Product Viewed' })).status,
    ).toBe(200);
    const marker = randomUUID();
    expect(
      (await post('/v1/track', { messageId: marker, userId: 'u-bystander', event: 'Product Viewed' })).status,
    ).toBe(200);
    await tap.next('ingest.track', (m) => (m.envelope.data as { messageId: string }).messageId === marker);
    expect(
      tap
        .messages('ingest.track')
        .filter((m) => (m.envelope.data as { messageId: string }).messageId === messageId),
    ).toEqual([]);
  });

  it('applies an erasure and an opt-in taken by another replica once it has read them', async () => {
    const other = await boot({ INGEST_ERASED_REFRESH_MS: '200' });
    try {
      const person = [{ type: 'user_id' as const, value: 'u-elsewhere' }];
      const postTo = (url: string, path: string, body: unknown) =>
        fetch(`${url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: auth(WRITE_KEY) },
          body: JSON.stringify(body),
        });
      expect((await post('/v1/privacy/erase', { userId: 'u-elsewhere' })).status).toBe(202);
      await waitFor('the other replica to read the erasure', () =>
        other.app.get(ErasedIdentities).isErased(person),
      );
      const dropped = randomUUID();
      const marker = randomUUID();
      for (const [messageId, userId] of [
        [dropped, 'u-elsewhere'],
        [marker, 'u-bystander'],
      ])
        expect(
          (await postTo(other.url, '/v1/track', { messageId, userId, event: 'Product Viewed' })).status,
        ).toBe(200);
      await tap.next('ingest.track', (m) => (m.envelope.data as { messageId: string }).messageId === marker);
      expect(
        tap.messages().filter((m) => (m.envelope.data as { messageId?: string }).messageId === dropped),
      ).toEqual([]);

      // The opt-in goes to the other replica; this one reads it and takes the person's events again.
      const optIn = { userId: 'u-elsewhere', channel: 'email', status: 'opted_in' };
      expect((await postTo(other.url, '/v1/consent', optIn)).status).toBe(200);
      await waitFor(
        'this replica to read the opt-in',
        () => !ingest.app.get(ErasedIdentities).isErased(person),
      );
      const taken = randomUUID();
      expect(
        (await post('/v1/track', { messageId: taken, userId: 'u-elsewhere', event: 'Product Viewed' }))
          .status,
      ).toBe(200);
      await tap.next('ingest.track', (m) => (m.envelope.data as { messageId: string }).messageId === taken);
    } finally {
      await other.close();
    }
  });
});
