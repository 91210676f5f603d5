import { randomUUID } from 'node:crypto';
import {
  type Envelope,
  type IdentifyPayload,
  originEnvelope,
  type ResolvedIdentifyPayload,
  type ResolvedTrackPayload,
  SUBJECTS,
  type TrackPayload,
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
import { identitySpec } from '../src/identity.app.js';

interface Person {
  userId?: string;
  anonymousId?: string;
}

const CONSUMER = { stream: 'INGEST', durable: 'identity__ingest_any' };

interface IdentifierDocument {
  _id: string;
  profileId: string;
}

interface ProfileDocument {
  _id: string;
  identifiers: string[];
}

function trackOf(person: Person, event = 'Product Viewed'): Envelope<TrackPayload> {
  const messageId = randomUUID();
  return originEnvelope({
    type: 'track',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    data: { messageId, ...person, event, properties: { product_id: 'sku-1' } },
  });
}

function identifyOf(person: Person, traits: Record<string, unknown>): Envelope<IdentifyPayload> {
  const messageId = randomUUID();
  return originEnvelope({
    type: 'identify',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    data: { messageId, ...person, traits },
  });
}

describe('identity: every ingested event is resolved to one profile, once', () => {
  let under: ServiceUnderTest;
  let natsUrl: string;
  let publisher: MessagePublisher;
  let tap: MessageTap;
  let db: Db;

  beforeAll(async () => {
    under = await startServiceUnderTest({ name: 'identity', spec: identitySpec, redis: true });
    ({ natsUrl, publisher, tap, db } = under);
  }, 60_000);
  afterAll(async () => {
    await under?.close();
  });

  const resolvedTrack = (input: Envelope) =>
    tap.nextCausedBy<ResolvedTrackPayload>(SUBJECTS.identity.resolved.track, input);
  const resolvedIdentify = (input: Envelope) =>
    tap.nextCausedBy<ResolvedIdentifyPayload>(SUBJECTS.identity.resolved.identify, input);
  const consumerSettled = () =>
    waitFor('identity to settle every ingested message', () =>
      consumerIsIdle(natsUrl, CONSUMER.stream, CONSUMER.durable),
    );
  const stored = async (subject: string) => (await subjectCounts(natsUrl, 'IDENTITY'))[subject] ?? 0;
  const identifiers = () => db.collection<IdentifierDocument>('identifiers');
  const profileCollection = () => db.collection<ProfileDocument>('profiles');
  /** Which profile owns each of these identifier keys. */
  const owners = async (keys: string[]) =>
    Object.fromEntries(
      (
        await identifiers()
          .find({ _id: { $in: keys } })
          .toArray()
      ).map((identifier) => [identifier._id, identifier.profileId]),
    );
  const profilesWith = (...identifierKeys: string[]) =>
    profileCollection()
      .find({ identifiers: { $in: identifierKeys } })
      .toArray();

  it('resolves a new person’s track and identify to one profile and stores its identifiers', async () => {
    const track = trackOf({ userId: 'user-ada', anonymousId: 'anon-ada' });
    const identify = identifyOf({ userId: 'user-ada' }, { email: ' Ada@Example.com ', first_name: 'Ada' });

    await publisher.publish(SUBJECTS.ingest.track, track);
    const resolved = await resolvedTrack(track);
    await publisher.publish(SUBJECTS.ingest.identify, identify);
    const identified = await resolvedIdentify(identify);

    const profileId = resolved.envelope.profileId!;
    expect(profileId).toEqual(expect.any(String));
    expect(identified.envelope.profileId).toBe(profileId);
    expect(resolved.envelope).toMatchObject({
      type: 'track',
      correlationId: track.id,
      causationId: track.id,
      data: {
        event: 'Product Viewed',
        userId: 'user-ada',
        identifiers: [
          { type: 'user_id', value: 'user-ada' },
          { type: 'anonymous_id', value: 'anon-ada' },
        ],
      },
    });
    expect(identified.envelope.data.traits).toEqual({ email: ' Ada@Example.com ', first_name: 'Ada' });

    expect(await owners(['user_id:user-ada', 'anonymous_id:anon-ada', 'email:ada@example.com'])).toEqual({
      'user_id:user-ada': profileId,
      'anonymous_id:anon-ada': profileId,
      'email:ada@example.com': profileId,
    });
    const profiles = await profilesWith('user_id:user-ada');
    expect(profiles.map((profile) => profile._id)).toEqual([profileId]);
    expect(profiles[0]!.identifiers).toEqual(
      expect.arrayContaining(['user_id:user-ada', 'anonymous_id:anon-ada', 'email:ada@example.com']),
    );
  });

  it('resolves a redelivered event again to the same profile, with one output and no second profile', async () => {
    const track = trackOf({ userId: 'user-bob' });
    const before = await stored(SUBJECTS.identity.resolved.track);

    await publisher.publish(SUBJECTS.ingest.track, track);
    const first = await resolvedTrack(track);
    await consumerSettled();
    await publishCopy(natsUrl, SUBJECTS.ingest.track, track);
    await consumerSettled();

    // The copy was handled: identity published its output again, with the same id and profile…
    const republished = tap
      .messages(SUBJECTS.identity.resolved.track)
      .filter((message) => message.envelope.causationId === track.id);
    expect(republished).toHaveLength(2);
    expect(republished[1]!.envelope).toMatchObject({
      id: first.envelope.id,
      profileId: first.envelope.profileId,
    });
    // …and the stream kept one of the two.
    expect(await stored(SUBJECTS.identity.resolved.track)).toBe(before + 1);
    expect(await profilesWith('user_id:user-bob')).toHaveLength(1);
    expect(await identifiers().countDocuments({ _id: 'user_id:user-bob' })).toBe(1);
  });

  it('converges 20 simultaneous first events of one new user on one profile', async () => {
    const events = Array.from({ length: 20 }, (_, i) =>
      trackOf({ userId: 'user-grace', anonymousId: `anon-grace-${i}` }),
    );

    await Promise.all(events.map((event) => publisher.publish(SUBJECTS.ingest.track, event)));
    const resolved = await Promise.all(events.map(resolvedTrack));

    const profileIds = new Set(resolved.map((message) => message.envelope.profileId));
    expect(profileIds.size).toBe(1);
    const [profileId] = profileIds;
    const profiles = await profilesWith('user_id:user-grace');
    expect(profiles.map((profile) => profile._id)).toEqual([profileId]);
    const anonymousKeys = events.map((_, i) => `anonymous_id:anon-grace-${i}`);
    expect(Object.values(await owners(['user_id:user-grace', ...anonymousKeys]))).toEqual(
      Array(21).fill(profileId),
    );
    expect(profiles[0]!.identifiers).toHaveLength(21);
  });

  it('joins an identify to the profile its anonymous id already has, and later events by user id follow', async () => {
    const browsing = trackOf({ anonymousId: 'anon-lin' });
    await publisher.publish(SUBJECTS.ingest.track, browsing);
    const anonymousProfileId = (await resolvedTrack(browsing)).envelope.profileId!;

    const signUp = identifyOf({ anonymousId: 'anon-lin', userId: 'user-lin' }, { email: 'lin@example.com' });
    await publisher.publish(SUBJECTS.ingest.identify, signUp);
    const identified = await resolvedIdentify(signUp);
    const later = trackOf({ userId: 'user-lin' }, 'Product Added');
    await publisher.publish(SUBJECTS.ingest.track, later);
    const laterResolved = await resolvedTrack(later);

    expect(identified.envelope.profileId).toBe(anonymousProfileId);
    expect(laterResolved.envelope.profileId).toBe(anonymousProfileId);
    expect(await owners(['anonymous_id:anon-lin', 'user_id:user-lin', 'email:lin@example.com'])).toEqual({
      'anonymous_id:anon-lin': anonymousProfileId,
      'user_id:user-lin': anonymousProfileId,
      'email:lin@example.com': anonymousProfileId,
    });
    const linked = await profilesWith('anonymous_id:anon-lin', 'user_id:user-lin', 'email:lin@example.com');
    expect(linked.map((profile) => profile._id)).toEqual([anonymousProfileId]);
  });
  it('resolves on normalized phone, external and custom ids, and drops an invalid e-mail without failing the event', async () => {
    const identify = identifyOf(
      { userId: 'user-kim' },
      { email: 'kim-at-example', phone: '+49 (151) 2345-6789' },
    );
    identify.data.context = {
      externalIds: [
        { id: 'CRM-42', type: 'crm_id' },
        { id: 987, type: 'shopify_customer_id' },
      ],
    };

    await publisher.publish(SUBJECTS.ingest.identify, identify);
    const resolved = await resolvedIdentify(identify);

    expect(resolved.envelope.data.identifiers).toEqual([
      { type: 'user_id', value: 'user-kim' },
      { type: 'crm_id', value: 'CRM-42' },
      { type: 'phone', value: '+4915123456789' },
      { type: 'custom', name: 'shopify_customer_id', value: '987' },
    ]);
    const profileId = resolved.envelope.profileId!;
    expect(await owners(['phone:+4915123456789', 'crm_id:CRM-42', 'custom:shopify_customer_id:987'])).toEqual(
      {
        'phone:+4915123456789': profileId,
        'crm_id:CRM-42': profileId,
        'custom:shopify_customer_id:987': profileId,
      },
    );
  });
});
