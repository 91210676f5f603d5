import { randomUUID } from 'node:crypto';
import {
  type Envelope,
  originEnvelope,
  type ProfileUpdatedPayload,
  type ResolvedIdentifyPayload,
  type ResolvedTrackPayload,
  type SendIntentPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { type MessagePublisher } from '@mesh/messaging';
import {
  consumerIsIdle,
  type MessageTap,
  publishCopy,
  type ServiceUnderTest,
  startServiceUnderTest,
  subjectCounts,
  waitFor,
} from '@mesh/testing';
import { type Db } from 'mongodb';
import { DEMO_CAMPAIGN } from '../src/campaigns/campaign.js';
import { enrichmentSpec } from '../src/enrichment.app.js';
import { decodeValue } from '../src/profiles/stored-keys.js';

const CONSUMER = { stream: 'IDENTITY', durable: 'enrichment__identity_resolved_any' };

interface ProfileDocument {
  _id: string;
  traits: Record<string, unknown>;
  computed: Record<string, unknown>;
  version: number;
  applied: string[];
}

function resolvedIdentify(
  profileId: string,
  traits: Record<string, unknown>,
): Envelope<ResolvedIdentifyPayload> {
  const messageId = randomUUID();
  return originEnvelope({
    type: 'identify',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    profileId,
    data: {
      messageId,
      userId: profileId,
      traits,
      identifiers: [{ type: 'user_id', value: profileId }],
    },
  });
}

function resolvedTrack(
  profileId: string,
  event: string,
  properties: Record<string, unknown>,
): Envelope<ResolvedTrackPayload> {
  const messageId = randomUUID();
  return originEnvelope({
    type: 'track',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    profileId,
    data: {
      messageId,
      userId: profileId,
      event,
      properties,
      identifiers: [{ type: 'user_id', value: profileId }],
    },
  });
}

describe('enrichment: every resolved event changes its profile once', () => {
  let under: ServiceUnderTest;
  let natsUrl: string;
  let publisher: MessagePublisher;
  let tap: MessageTap;
  let db: Db;

  beforeAll(async () => {
    under = await startServiceUnderTest({
      name: 'enrichment',
      spec: enrichmentSpec,
      redis: true,
      env: { MESH_DEMO: 'true' },
    });
    ({ natsUrl, publisher, tap, db } = under);
  }, 60_000);
  afterAll(async () => {
    await under?.close();
  });

  const profileUpdated = (input: Envelope) =>
    tap.nextCausedBy<ProfileUpdatedPayload>(SUBJECTS.enrichment.profileUpdated, input);
  const triggered = (input: Envelope) =>
    tap.nextCausedBy<SendIntentPayload>(SUBJECTS.enrichment.triggered, input);
  const consumerSettled = () =>
    waitFor('enrichment to settle every resolved event', () =>
      consumerIsIdle(natsUrl, CONSUMER.stream, CONSUMER.durable),
    );
  const stored = async (subject: string) => (await subjectCounts(natsUrl, 'ENRICHMENT'))[subject] ?? 0;
  // What is durable before the message is acked: the profile's one document, keys decoded.
  const profile = async (profileId: string) => {
    const document = await db.collection<ProfileDocument>('profiles').findOne({ _id: profileId });
    if (!document) return null;
    return { ...document, traits: decodeValue(document.traits) as Record<string, unknown> };
  };

  it('keeps identify traits, with dotted and $-prefixed keys, and announces them as sent', async () => {
    const traits = {
      email: 'ada@example.com',
      first_name: 'Ada',
      'plan.tier': 'gold',
      $source: 'crm',
      address: { 'zip.code': '75001', $verified: true },
    };
    const identify = resolvedIdentify('profile-ada', traits);

    await publisher.publish(SUBJECTS.identity.resolved.identify, identify);
    const updated = await profileUpdated(identify);

    expect(updated.envelope.profileId).toBe('profile-ada');
    expect(updated.envelope.data.profile).toMatchObject({ profileId: 'profile-ada', traits, version: 1 });
    expect(updated.envelope.data.changed).toEqual(expect.arrayContaining(['plan.tier', '$source', 'email']));
    const document = await profile('profile-ada');
    expect(document!.traits).toEqual(traits);
    expect(document!.version).toBe(1);
    // Stored with the keys encoded: no `.` or leading `$`.
    const stored = await db.collection<ProfileDocument>('profiles').findOne({ _id: 'profile-ada' });
    expect(JSON.stringify(Object.keys(stored!.traits))).not.toMatch(/\.|"\$/);
  });

  it('builds on a version another replica wrote (not in its memory)', async () => {
    const at = new Date(Date.now() - 60_000);
    await db.collection<{ _id: string; [field: string]: unknown }>('profiles').insertOne({
      _id: 'profile-dan',
      traits: { first_name: 'Dan' },
      traitTimes: { first_name: at.toISOString() },
      state: {},
      computed: {},
      segments: [],
      version: 1,
      applied: ['written-elsewhere'],
      updatedAt: at,
      schemaVersion: 2,
    });
    const event = resolvedIdentify('profile-dan', { plan: 'gold' });
    await publisher.publish(SUBJECTS.identity.resolved.identify, event);

    const updated = await profileUpdated(event);
    expect(updated.envelope.data.profile).toMatchObject({
      version: 2,
      traits: { first_name: 'Dan', plan: 'gold' },
    });
    expect(updated.envelope.data.changed).not.toContain('first_name');
    expect(await profile('profile-dan')).toMatchObject({
      version: 2,
      applied: ['written-elsewhere', event.id],
    });
  });

  it('applies a redelivered event once: the version moves by one and one profile.updated is kept', async () => {
    const first = resolvedIdentify('profile-bob', { first_name: 'Bob' });
    await publisher.publish(SUBJECTS.identity.resolved.identify, first);
    await profileUpdated(first);
    const change = resolvedIdentify('profile-bob', { first_name: 'Robert', 'plan.tier': 'silver' });
    const before = await stored(SUBJECTS.enrichment.profileUpdated);

    await publisher.publish(SUBJECTS.identity.resolved.identify, change);
    const updated = await profileUpdated(change);
    await consumerSettled();
    await publishCopy(natsUrl, SUBJECTS.identity.resolved.identify, change);
    await consumerSettled();

    expect(updated.envelope.data.profile.version).toBe(2);
    const document = await profile('profile-bob');
    expect(document!.version).toBe(2);
    expect(document!.applied.filter((id) => id === change.id)).toHaveLength(1);
    expect(document!.traits).toEqual({ first_name: 'Robert', 'plan.tier': 'silver' });
    // The copy was handled (enrichment announced it again, under the same id); the stream kept one.
    const announced = tap
      .messages(SUBJECTS.enrichment.profileUpdated)
      .filter((message) => message.envelope.causationId === change.id);
    expect(announced).toHaveLength(2);
    expect(announced[1]!.envelope.id).toBe(updated.envelope.id);
    expect(await stored(SUBJECTS.enrichment.profileUpdated)).toBe(before + 1);
  });

  it('turns a Product Added into one send intent for the demo campaign, keyed by the cart, even when redelivered', async () => {
    const identify = resolvedIdentify('profile-cy', { email: 'cy@example.com', first_name: 'Cy' });
    await publisher.publish(SUBJECTS.identity.resolved.identify, identify);
    await profileUpdated(identify);
    const viewed = resolvedTrack('profile-cy', 'Product Viewed', { product_id: 'sku-mouse' });
    const added = resolvedTrack('profile-cy', 'Product Added', {
      product_id: 'sku-laptop',
      name: 'Laptop 13',
      price: 1299,
      currency: 'EUR',
      cart_id: 'cart-42',
    });
    const before = await stored(SUBJECTS.enrichment.triggered);

    await publisher.publish(SUBJECTS.identity.resolved.track, viewed);
    await profileUpdated(viewed);
    await publisher.publish(SUBJECTS.identity.resolved.track, added);
    const intent = await triggered(added);
    await consumerSettled();
    await publishCopy(natsUrl, SUBJECTS.identity.resolved.track, added);
    await consumerSettled();

    const { enabled: _enabled, trigger: _trigger, ...campaignSpec } = DEMO_CAMPAIGN;
    expect(intent.envelope.profileId).toBe('profile-cy');
    expect(intent.envelope.correlationId).toBe(added.id);
    expect(intent.envelope.data).toMatchObject({
      campaign: campaignSpec,
      triggerKey: 'cart:cart-42',
      trigger: { event: 'Product Added', properties: added.data.properties },
      profile: {
        profileId: 'profile-cy',
        traits: { email: 'cy@example.com', first_name: 'Cy' },
        computed: { last_event: { name: 'Product Added', at: added.occurredAt } },
        version: 3,
      },
    });
    // Product Viewed triggers nothing; the redelivered Product Added finds the cart's entry naming it,
    // and publishes the same intent again (in case the first publish was lost): the stream keeps one.
    expect(
      tap.messages(SUBJECTS.enrichment.triggered).filter((m) => m.envelope.causationId === viewed.id),
    ).toEqual([]);
    const published = tap
      .messages(SUBJECTS.enrichment.triggered)
      .filter((m) => m.envelope.causationId === added.id);
    expect(new Set(published.map((m) => m.envelope.id))).toEqual(new Set([intent.envelope.id]));
    expect(await stored(SUBJECTS.enrichment.triggered)).toBe(before + 1);
    expect((await profile('profile-cy'))!.version).toBe(3);
  });
});
