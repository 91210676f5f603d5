import { randomUUID } from 'node:crypto';
import {
  type AliasPayload,
  type EraseDonePayload,
  type EraseRequestedPayload,
  type Envelope,
  type IngestedEventBase,
  originEnvelope,
  type ProfileSplitPayload,
  type ProfilesMergedPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { type MessagePublisher } from '@mesh/messaging';
import {
  type BootedService,
  bootService,
  consumerIsIdle,
  type MessageTap,
  publishCopy,
  type ServiceUnderTest,
  startServiceUnderTest,
  subjectCounts,
  waitFor,
} from '@mesh/testing';
import { Redis } from 'ioredis';
import { type Db } from 'mongodb';
import { entryKey } from '../src/resolution/identifier-cache.js';
import { identitySpec } from '../src/identity.app.js';
import { ResolveEventUseCase } from '../src/resolution/resolve-event.usecase.js';
import {
  IdentityGraphRepository,
  type ConflictDocument,
  type IdentifierDocument,
  type MergeDocument,
  type ProfileDocument,
} from '../src/resolution/identity-graph.repository.js';

const CONSUMER = { stream: 'INGEST', durable: 'identity__ingest_any' };

type Data = Omit<IngestedEventBase, 'messageId'> & {
  traits?: Record<string, unknown>;
  event?: string;
  previousId?: string;
};

function eventOf(type: 'track' | 'identify' | 'alias', data: Data, occurredAt = new Date()): Envelope {
  return originEnvelope({
    type,
    source: 'test-source',
    occurredAt: occurredAt.toISOString(),
    data: {
      messageId: randomUUID(),
      ...(type === 'track' ? { event: 'Viewed', properties: {} } : {}),
      ...data,
    },
  });
}

describe('identity graph: joins, merges, limits, alias, concurrency', () => {
  let under: ServiceUnderTest;
  let natsUrl: string;
  let publisher: MessagePublisher;
  let tap: MessageTap;
  let db: Db;

  beforeAll(async () => {
    // Few handler slots each, so the two instances of the concurrency test share the work.
    under = await startServiceUnderTest({
      name: 'identity',
      spec: identitySpec,
      tap: '>',
      redis: true,
      env: { MESSAGING_CONCURRENCY: '8' },
    });
    ({ natsUrl, publisher, tap, db } = under);
  }, 60_000);
  afterAll(async () => {
    await under?.close();
  });

  const send = async (event: Envelope) => {
    await publisher.publish(`ingest.${event.type}` as typeof SUBJECTS.ingest.track, event as never);
    return (await tap.nextCausedBy(`identity.resolved.${event.type}`, event, 30_000)).envelope.profileId!;
  };
  const settled = () =>
    waitFor(
      'identity to settle every ingested message',
      () => consumerIsIdle(natsUrl, CONSUMER.stream, CONSUMER.durable),
      60_000,
    );
  const identifiers = () => db.collection<IdentifierDocument>('identifiers');
  const profiles = () => db.collection<ProfileDocument>('profiles');
  const merges = () => db.collection<MergeDocument>('merges');
  const ownerOf = async (key: string) => (await identifiers().findOne({ _id: key }))?.profileId;
  const mergedMessages = (survivorId: string) =>
    tap
      .messages(SUBJECTS.identity.merged)
      .filter((message) => (message.envelope.data as ProfilesMergedPayload).survivorId === survivorId);
  const liveProfilesWith = (keys: string[]) =>
    profiles()
      .find({ identifiers: { $in: keys }, mergedInto: { $exists: false } })
      .toArray();

  it('merges two profiles an event connects into the one with the user id, publishes and audits it once', async () => {
    const browsing = await send(eventOf('track', { anonymousId: 'anon-mo' }, new Date(Date.now() - 60_000)));
    const signedUp = await send(
      eventOf('identify', { userId: 'user-mo', traits: { email: 'mo@example.com' } }),
    );
    expect(signedUp).not.toBe(browsing);

    const connecting = eventOf('track', { anonymousId: 'anon-mo', userId: 'user-mo' });
    const resolvedTo = await send(connecting);

    // The survivor is the profile with the user id, although the anonymous one is older.
    expect(resolvedTo).toBe(signedUp);
    const merged = await tap.next<ProfilesMergedPayload>(
      SUBJECTS.identity.merged,
      (message) => message.envelope.data.survivorId === signedUp,
    );
    expect(merged.envelope).toMatchObject({
      profileId: signedUp,
      causationId: connecting.id,
      data: { survivorId: signedUp, mergedIds: [browsing], reason: 'shared_identifiers' },
    });
    expect(merged.envelope.data.evidence).toEqual(
      expect.arrayContaining([
        { type: 'user_id', value: 'user-mo' },
        { type: 'anonymous_id', value: 'anon-mo' },
      ]),
    );
    expect(await ownerOf('anonymous_id:anon-mo')).toBe(signedUp);
    expect(await profiles().findOne({ _id: browsing })).toMatchObject({ mergedInto: signedUp });
    const survivor = await profiles().findOne({ _id: signedUp });
    expect(survivor!.identifiers).toEqual(
      expect.arrayContaining(['anonymous_id:anon-mo', 'user_id:user-mo', 'email:mo@example.com']),
    );
    expect(survivor!.firstSeen.getTime()).toBeLessThan(Date.now() - 30_000);
    expect(await merges().findOne({ _id: merged.envelope.data.mergeId })).toMatchObject({
      status: 'done',
      survivorId: signedUp,
      mergedIds: [browsing],
    });

    // Later events on the merged profile's identifier resolve to the survivor.
    expect(await send(eventOf('track', { anonymousId: 'anon-mo' }))).toBe(signedUp);

    // Redelivering the merging event: the same output, no second merge, one identity.merged in the stream.
    const before = await subjectCounts(natsUrl, 'IDENTITY');
    await publishCopy(natsUrl, SUBJECTS.ingest.track, connecting);
    await settled();
    expect(tap.causedBy(SUBJECTS.identity.resolved.track, connecting)).toHaveLength(2);
    expect(await subjectCounts(natsUrl, 'IDENTITY')).toEqual(before);
    expect(await merges().countDocuments({ survivorId: signedUp })).toBe(1);
    expect(mergedMessages(signedUp)).toHaveLength(1);
  });

  it('does not merge two profiles whose user ids would exceed the limit; attaches by priority and records the conflict', async () => {
    const first = await send(eventOf('identify', { userId: 'user-x', traits: { email: 'x@example.com' } }));
    const second = await send(eventOf('track', { userId: 'user-y', anonymousId: 'anon-y' }));

    const connecting = eventOf('identify', { anonymousId: 'anon-y', traits: { email: 'x@example.com' } });
    // The e-mail outranks the anonymous id.
    expect(await send(connecting)).toBe(first);

    expect(
      await profiles().countDocuments({ _id: { $in: [first, second] }, mergedInto: { $exists: true } }),
    ).toBe(0);
    expect(await ownerOf('anonymous_id:anon-y')).toBe(second);
    const conflict = await db.collection<ConflictDocument>('conflicts').findOne({ eventId: connecting.id });
    expect(conflict).toMatchObject({ attachedTo: first, profileIds: [first, second].sort() });
    expect(conflict!.reason).toContain('user_id');
    expect(mergedMessages(first).concat(mergedMessages(second))).toHaveLength(0);
  });

  it('keeps a second user id out of a profile (limit one) and records the conflict', async () => {
    const profileId = await send(eventOf('track', { userId: 'user-z1', anonymousId: 'anon-z' }));
    const clash = eventOf('track', { userId: 'user-z2', anonymousId: 'anon-z' });
    // user-z2 is new: the event joins by the anonymous id, but the profile keeps its one user id.
    expect(await send(clash)).toBe(profileId);
    const conflicts = await db
      .collection<ConflictDocument>('conflicts')
      .find({ eventId: clash.id })
      .toArray();
    expect(conflicts).toEqual([
      expect.objectContaining({ attachedTo: profileId, rejected: ['user_id:user-z2'] }),
    ]);
    expect(await ownerOf('user_id:user-z2')).toBeUndefined();
  });

  it('links an alias’s previous id to the user id’s profile, merging the two', async () => {
    const anonymous = await send(eventOf('track', { anonymousId: 'anon-al' }));
    const user = await send(eventOf('identify', { userId: 'user-al', traits: {} }));
    const alias = eventOf('alias', { userId: 'user-al', previousId: 'anon-al' });
    expect(await send(alias)).toBe(user);
    const merged = await tap.next<ProfilesMergedPayload>(
      SUBJECTS.identity.merged,
      (message) => message.envelope.data.survivorId === user,
    );
    expect(merged.envelope.data).toMatchObject({ mergedIds: [anonymous], reason: 'alias' });
    expect(await ownerOf('anonymous_id:anon-al')).toBe(user);

    // A previous id never seen before simply joins the user's profile.
    await send(eventOf('alias', { userId: 'user-al', previousId: 'anon-al-2' }));
    expect(await ownerOf('anonymous_id:anon-al-2')).toBe(user);
    expect((alias.data as AliasPayload).previousId).toBe('anon-al');
  });

  it('completes a merge a crash interrupted, when the next event meets it', async () => {
    const a = await send(eventOf('track', { anonymousId: 'anon-cr' }));
    const b = await send(eventOf('identify', { userId: 'user-cr', traits: {} }));
    // As if a consumer crashed after the audit entry and the first data step.
    await merges().insertOne({
      _id: 'merge-crashed',
      survivorId: b,
      mergedIds: [a],
      reason: 'shared_identifiers',
      evidence: [{ type: 'anonymous_id', value: 'anon-cr' }],
      cause: {
        id: 'cause-cr',
        correlationId: 'cause-cr',
        source: 'test',
        occurredAt: new Date().toISOString(),
        receivedAt: new Date().toISOString(),
      },
      status: 'pending',
      createdAt: new Date(),
      schemaVersion: 1,
    });
    await profiles().updateOne({ _id: a }, { $set: { mergedInto: b, mergeId: 'merge-crashed' } });

    expect(await send(eventOf('track', { anonymousId: 'anon-cr' }))).toBe(b);
    expect(await ownerOf('anonymous_id:anon-cr')).toBe(b);
    expect(await merges().findOne({ _id: 'merge-crashed' })).toMatchObject({ status: 'done' });
    await tap.next(SUBJECTS.identity.merged, (message) => message.envelope.causationId === 'cause-cr');
  });

  describe('POST /api/profiles/{id}/split', () => {
    const split = (profileId: string, body: unknown, token = 'identity-test-admin-token') =>
      fetch(`${under.service.url}/api/profiles/${profileId}/split`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const splitMessages = (mergeId: string) =>
      tap
        .messages(SUBJECTS.identity.split)
        .filter((message) => (message.envelope.data as ProfileSplitPayload).mergeId === mergeId);
    /** Two profiles (the anonymous one with an e-mail of its own) merged by an event carrying both ids. */
    const mergedPair = async (tag: string) => {
      const anonymous = await send(
        eventOf('identify', { anonymousId: `anon-${tag}`, traits: { email: `${tag}-home@example.com` } }),
      );
      const user = await send(
        eventOf('identify', { userId: `user-${tag}`, traits: { email: `${tag}@example.com` } }),
      );
      await send(eventOf('track', { anonymousId: `anon-${tag}`, userId: `user-${tag}` }));
      const merged = await tap.next<ProfilesMergedPayload>(
        SUBJECTS.identity.merged,
        (message) => message.envelope.data.survivorId === user,
      );
      return { anonymous, user, mergeId: merged.envelope.data.mergeId };
    };

    it('gives the merged profile its identifiers back, keeps later ones with the survivor, publishes identity.split once', async () => {
      const { anonymous, user, mergeId } = await mergedPair('sp');
      // Joins the survivor after the merge: stays with it.
      await send(eventOf('identify', { userId: 'user-sp', traits: { email: 'sp-later@example.com' } }));

      const response = await split(user, { mergeId });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ mergeId, survivorId: user, restoredIds: [anonymous] });
      const published = await tap.next<ProfileSplitPayload>(
        SUBJECTS.identity.split,
        (message) => message.envelope.data.mergeId === mergeId,
      );
      expect(published.envelope).toMatchObject({
        profileId: user,
        data: { survivorId: user, restoredIds: [anonymous] },
      });

      expect(await ownerOf('anonymous_id:anon-sp')).toBe(anonymous);
      expect(await ownerOf('email:sp-home@example.com')).toBe(anonymous);
      expect(await ownerOf('user_id:user-sp')).toBe(user);
      expect(await ownerOf('email:sp@example.com')).toBe(user);
      expect(await ownerOf('email:sp-later@example.com')).toBe(user);
      const restored = await profiles().findOne({ _id: anonymous });
      expect(restored!.mergedInto).toBeUndefined();
      expect((await profiles().findOne({ _id: user }))!.identifiers.sort()).toEqual(
        ['email:sp-later@example.com', 'email:sp@example.com', 'user_id:user-sp'].sort(),
      );
      expect(await merges().findOne({ _id: mergeId })).toMatchObject({ status: 'split' });

      // The API shows two people again.
      const get = (id: string) =>
        fetch(`${under.service.url}/api/profiles/${id}`, {
          headers: { authorization: 'Bearer identity-test-admin-token' },
        }).then((answer) => answer.json() as Promise<Record<string, unknown>>);
      expect(await get(anonymous)).toMatchObject({ id: anonymous, merges: [] });
      expect(await get(user)).toMatchObject({ id: user, merges: [] });

      // Asking again: 409 with the split it already made, and still one identity.split.
      const again = await split(anonymous, { mergeId });
      expect(again.status).toBe(409);
      expect(await again.json()).toMatchObject({ error: 'already_split', restoredIds: [anonymous] });
      expect(splitMessages(mergeId)).toHaveLength(1);

      // Events resolve to the profiles apart; one connecting them again does not re-merge what an operator split.
      expect(await send(eventOf('track', { anonymousId: 'anon-sp' }))).toBe(anonymous);
      const reconnecting = eventOf('track', { anonymousId: 'anon-sp', userId: 'user-sp' });
      expect(await send(reconnecting)).toBe(user);
      expect(await ownerOf('anonymous_id:anon-sp')).toBe(anonymous);
      const conflict = await db
        .collection<ConflictDocument>('conflicts')
        .findOne({ eventId: reconnecting.id });
      expect(conflict!.reason).toContain('split');
      expect(mergedMessages(user)).toHaveLength(1);
    });

    it('completes a split a crash interrupted, with one identity.split', async () => {
      const { anonymous, user, mergeId } = await mergedPair('sp2');
      // As if a split stopped after its first data step.
      await merges().updateOne({ _id: mergeId }, { $set: { status: 'splitting' } });
      await profiles().updateOne({ _id: anonymous }, { $unset: { mergedInto: '', mergeId: '' } });

      const response = await split(user, { mergeId });
      expect(response.status).toBe(200);
      expect(await ownerOf('anonymous_id:anon-sp2')).toBe(anonymous);
      expect(await merges().findOne({ _id: mergeId })).toMatchObject({ status: 'split' });
      await waitFor('identity.split', () => splitMessages(mergeId).length === 1, 30_000);
    });

    it('answers 404 for unknown merges or another profile’s merge, 409 for a pending one, 400 naming the field, 401 without the token', async () => {
      const { user, mergeId } = await mergedPair('sp3');
      expect((await split(user, { mergeId: 'no-such-merge' })).status).toBe(404);
      expect((await split('some-other-profile', { mergeId })).status).toBe(404);
      const bad = await split(user, {});
      expect(bad.status).toBe(400);
      expect(JSON.stringify(await bad.json())).toContain('mergeId');
      expect((await split(user, { mergeId, colour: 'red' })).status).toBe(400);
      expect((await split(user, { mergeId }, 'wrong-token-wrong-token')).status).toBe(401);
      await merges().updateOne({ _id: mergeId }, { $set: { status: 'pending' } });
      const pending = await split(user, { mergeId });
      expect(pending.status).toBe(409);
      expect(await pending.json()).toMatchObject({ error: 'merge_not_finished' });
      await merges().updateOne({ _id: mergeId }, { $set: { status: 'done' } });
      expect(splitMessages(mergeId)).toHaveLength(0);
    });
  });

  describe('GET /api/profiles', () => {
    const get = (path: string, token = 'identity-test-admin-token') =>
      fetch(`${under.service.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

    it('shows a profile with its identifiers and merge history; a merged id answers with its survivor', async () => {
      const anonymous = await send(eventOf('track', { anonymousId: 'anon-api' }));
      const user = await send(
        eventOf('identify', { userId: 'user-api', traits: { email: 'Api@Example.com' } }),
      );
      await send(eventOf('track', { anonymousId: 'anon-api', userId: 'user-api' }));

      const response = await get(`/api/profiles/${user}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        id: user,
        merges: [
          expect.objectContaining({ survivorId: user, mergedIds: [anonymous], reason: 'shared_identifiers' }),
        ],
      });
      expect(body.identifiers).toEqual(
        expect.arrayContaining([
          { type: 'user_id', value: 'user-api' },
          { type: 'email', value: 'api@example.com' },
          { type: 'anonymous_id', value: 'anon-api' },
        ]),
      );
      expect(await (await get(`/api/profiles/${anonymous}`)).json()).toMatchObject({
        id: user,
        requestedId: anonymous,
      });
      expect(await (await get('/api/profiles?email=%20API@example.com')).json()).toMatchObject({ id: user });
      expect(await (await get('/api/profiles?userId=user-api')).json()).toMatchObject({ id: user });
    });

    it('answers 404 for unknown profiles, 400 naming the field for bad queries, 401 without the admin token', async () => {
      expect((await get('/api/profiles/no-such-profile')).status).toBe(404);
      expect((await get('/api/profiles?userId=nobody')).status).toBe(404);
      const bad = await get('/api/profiles?email=not-an-email');
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({
        fields: { email: [expect.stringContaining('INVALID_EMAIL')] },
      });
      expect((await get('/api/profiles')).status).toBe(400);
      expect((await get('/api/profiles?colour=red')).status).toBe(400);
      expect((await get('/api/profiles?userId=user-api', 'wrong-token-wrong-token')).status).toBe(401);
    });
  });

  describe('erasure', () => {
    const requestErasure = async (data: EraseRequestedPayload) => {
      const request = originEnvelope({
        type: 'privacy.erase.requested',
        source: 'test-source',
        occurredAt: new Date().toISOString(),
        data,
      });
      await publisher.publish(SUBJECTS.privacy.eraseRequested, request);
      return request;
    };
    const receiptOf = (request: Envelope) =>
      tap.nextCausedBy<EraseDonePayload>(SUBJECTS.privacy.eraseDone('identity'), request, 30_000);

    it('removes a merged person’s identifiers, profiles, conflicts and audit evidence, and answers with a receipt once', async () => {
      const anonymous = await send(eventOf('track', { anonymousId: 'anon-er' }));
      const user = await send(
        eventOf('identify', { userId: 'user-er', traits: { email: 'er@example.com' } }),
      );
      await send(eventOf('track', { anonymousId: 'anon-er', userId: 'user-er' }));
      await send(eventOf('track', { userId: 'user-er-2', anonymousId: 'anon-er' })); // a conflict (second user id)
      const other = await send(eventOf('track', { userId: 'user-keep' }));

      const request = await requestErasure({
        requestId: 'erase-er',
        identifiers: [{ type: 'email', value: ' ER@example.com' }],
      });
      const receipt = await receiptOf(request);
      expect(receipt.envelope.data).toMatchObject({
        requestId: 'erase-er',
        service: 'identity',
        removed: { identifiers: 3, profiles: 2, mergeAuditRedacted: 1, conflicts: 1 },
      });
      expect(await identifiers().countDocuments({ profileId: { $in: [anonymous, user] } })).toBe(0);
      expect(await profiles().countDocuments({ _id: { $in: [anonymous, user] } })).toBe(0);
      const audit = await merges().find({ survivorId: user }).toArray();
      expect(audit).toEqual([expect.objectContaining({ evidence: [], erased: true })]);
      expect(await db.collection('conflicts').countDocuments({ attachedTo: user })).toBe(0);
      expect(await ownerOf('user_id:user-keep')).toBe(other);

      // A redelivered request: nothing left to remove, and the stream keeps one receipt.
      const receipts = async () =>
        (await subjectCounts(natsUrl, 'PRIVACY'))[SUBJECTS.privacy.eraseDone('identity')];
      const before = await receipts();
      await publishCopy(natsUrl, SUBJECTS.privacy.eraseRequested, request);
      await waitFor(
        'the copy to be answered',
        () => tap.causedBy(SUBJECTS.privacy.eraseDone('identity'), request).length === 2,
      );
      expect(await receipts()).toBe(before);
    });

    it('erases by profile id, a merged one included', async () => {
      const anonymous = await send(eventOf('track', { anonymousId: 'anon-er2' }));
      const user = await send(eventOf('track', { userId: 'user-er2', anonymousId: 'anon-er2' }));
      expect(user).toBe(anonymous);
      const request = await requestErasure({ requestId: 'erase-er2', identifiers: [], profileIds: [user] });
      expect((await receiptOf(request)).envelope.data.removed).toMatchObject({ identifiers: 2, profiles: 1 });
      expect(await ownerOf('anonymous_id:anon-er2')).toBeUndefined();
    });
  });

  describe('identifier cache (Redis)', () => {
    let redis: Redis;
    beforeAll(() => {
      redis = new Redis(under.redisUrl!);
    });
    afterAll(async () => {
      await redis?.quit();
    });
    const cachedOwner = (key: string) => redis.get(`identity:${entryKey(key)}`);
    const lookup = async (query: string) => {
      const response = await fetch(`${under.service.url}/api/profiles?${query}`, {
        headers: { authorization: 'Bearer identity-test-admin-token' },
      });
      return response.status === 200 ? ((await response.json()) as { id: string }).id : response.status;
    };
    /** Counts the graph's MongoDB identifier lookups while `work` runs. */
    const mongoLookups = async (work: () => Promise<unknown>) => {
      const graph = under.service.app.get(IdentityGraphRepository);
      const owners = graph.owners.bind(graph);
      let calls = 0;
      graph.owners = (keys) => {
        calls++;
        return owners(keys);
      };
      try {
        await work();
      } finally {
        graph.owners = owners;
      }
      return calls;
    };

    it('serves a known identifier from the cache, and never follows a wrong entry', async () => {
      const profileId = await send(
        eventOf('identify', { userId: 'user-ca', traits: { email: 'ca@example.com' } }),
      );
      expect(await cachedOwner('user_id:user-ca')).toBe(profileId);
      expect(await cachedOwner('email:ca@example.com')).toBe(profileId);
      // The hot path: no MongoDB identifier lookup at all.
      expect(await mongoLookups(() => send(eventOf('track', { userId: 'user-ca' })))).toBe(0);
      expect(await lookup('userId=user-ca')).toBe(profileId);

      // An entry naming another live profile (as a bug or an expired claim could leave): checked, not followed.
      const other = await send(eventOf('track', { userId: 'user-ca-other' }));
      await redis.set(`identity:${entryKey('user_id:user-ca')}`, other);
      expect(await lookup('userId=user-ca')).toBe(profileId);
      expect(await send(eventOf('track', { userId: 'user-ca' }))).toBe(profileId);
      expect(await cachedOwner('user_id:user-ca')).toBe(profileId);
      expect((await profiles().findOne({ _id: other }))!.identifiers).toEqual(['user_id:user-ca-other']);
    });

    it('drops the merged profile’s entries on a merge: its identifiers resolve to the survivor', async () => {
      const anonymous = await send(
        eventOf('identify', { anonymousId: 'anon-cm', traits: { email: 'cm-home@example.com' } }),
      );
      const user = await send(eventOf('track', { userId: 'user-cm' }));
      expect(await cachedOwner('email:cm-home@example.com')).toBe(anonymous);
      // The merging event does not carry the e-mail: only the merge can have dropped its entry.
      expect(await send(eventOf('track', { anonymousId: 'anon-cm', userId: 'user-cm' }))).toBe(user);
      expect(await cachedOwner('email:cm-home@example.com')).toBeNull();
      expect(await lookup('email=cm-home@example.com')).toBe(user);
      expect(
        await send(
          eventOf('identify', { anonymousId: 'anon-cm-2', traits: { email: 'cm-home@example.com' } }),
        ),
      ).toBe(user);
      expect(await cachedOwner('email:cm-home@example.com')).toBe(user);
    });

    it('drops the survivor’s entries of the returning identifiers on a split', async () => {
      const anonymous = await send(
        eventOf('identify', { anonymousId: 'anon-cs', traits: { email: 'cs-home@example.com' } }),
      );
      const user = await send(eventOf('track', { userId: 'user-cs' }));
      await send(eventOf('track', { anonymousId: 'anon-cs', userId: 'user-cs' }));
      // Cached for the survivor by events after the merge.
      await send(eventOf('identify', { anonymousId: 'anon-cs', traits: { email: 'cs-home@example.com' } }));
      expect(await cachedOwner('anonymous_id:anon-cs')).toBe(user);
      expect(await cachedOwner('email:cs-home@example.com')).toBe(user);
      const merge = await merges().findOne({ survivorId: user, mergedIds: anonymous });

      const response = await fetch(`${under.service.url}/api/profiles/${user}/split`, {
        method: 'POST',
        headers: { authorization: 'Bearer identity-test-admin-token', 'content-type': 'application/json' },
        body: JSON.stringify({ mergeId: merge!._id }),
      });
      expect(response.status).toBe(200);
      expect(await cachedOwner('anonymous_id:anon-cs')).toBeNull();
      expect(await cachedOwner('email:cs-home@example.com')).toBeNull();
      expect(await cachedOwner('user_id:user-cs')).toBe(user);
      expect(await lookup('email=cs-home@example.com')).toBe(anonymous);
      expect(await send(eventOf('track', { anonymousId: 'anon-cs' }))).toBe(anonymous);
      expect(await cachedOwner('anonymous_id:anon-cs')).toBe(anonymous);
      expect(await send(eventOf('track', { userId: 'user-cs' }))).toBe(user);
    });

    it('drops the erased person’s entries: a lookup finds nothing, a later event starts a new profile', async () => {
      const anonymous = await send(eventOf('track', { anonymousId: 'anon-ce' }));
      const user = await send(
        eventOf('identify', { userId: 'user-ce', traits: { email: 'ce@example.com' } }),
      );
      await send(eventOf('track', { anonymousId: 'anon-ce', userId: 'user-ce' }));
      await send(eventOf('track', { anonymousId: 'anon-ce' }));
      expect(await cachedOwner('anonymous_id:anon-ce')).toBe(user);
      const request = originEnvelope({
        type: 'privacy.erase.requested',
        source: 'test-source',
        occurredAt: new Date().toISOString(),
        data: {
          requestId: 'erase-ce',
          identifiers: [{ type: 'email', value: 'ce@example.com' }],
        } satisfies EraseRequestedPayload,
      });
      await publisher.publish(SUBJECTS.privacy.eraseRequested, request);
      await tap.nextCausedBy(SUBJECTS.privacy.eraseDone('identity'), request, 30_000);
      for (const key of ['anonymous_id:anon-ce', 'user_id:user-ce', 'email:ce@example.com']) {
        expect(await cachedOwner(key)).toBeNull();
      }
      expect(await lookup('userId=user-ce')).toBe(404);
      const later = eventOf('track', { anonymousId: 'anon-ce' }, new Date());
      const again = await send(later);
      const profile = await profiles().findOne({ _id: again });
      expect(profile).toMatchObject({ identifiers: ['anonymous_id:anon-ce'] });
      expect(profile!.firstSeen.toISOString()).toBe(later.occurredAt);
      expect(
        await profiles().countDocuments({ _id: { $in: [anonymous, user] }, identifiers: 'user_id:user-ce' }),
      ).toBe(0);
    });

    /**
     * Another replica's event, through the cached path (which takes no claim), against an erasure or a
     * merge paused right after it deleted the cache entries: the replica read the entry just before
     * they went (written back here), and sights the profile while the erasure or merge is paused.
     */
    const raceCacheClear = async (
      profileId: string,
      start: () => Promise<unknown>,
      key: string,
      racing: Envelope,
    ) => {
      const graph = under.service.app.get(IdentityGraphRepository);
      const forget = graph.cache.forget.bind(graph.cache);
      const touchLive = graph.touchLive.bind(graph);
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let paused = false;
      let sightings = 0;
      graph.cache.forget = async (keys) => {
        await forget(keys);
        if (paused) return;
        paused = true; // the erasure's or merge's deletion: the first one from here on
        await released;
      };
      graph.touchLive = async (id, seenAt) => {
        const profile = await touchLive(id, seenAt);
        if (id === profileId) sightings++;
        return profile;
      };
      try {
        const started = start();
        await waitFor('the cache entries to be deleted', () => paused);
        await redis.set(`identity:${entryKey(key)}`, profileId);
        await publisher.publish(`ingest.${racing.type}` as typeof SUBJECTS.ingest.track, racing as never);
        await waitFor('the racing event to sight the profile', () => sightings > 0);
        release();
        await started;
      } finally {
        graph.cache.forget = forget;
        graph.touchLive = touchLive;
        release();
      }
      return (await tap.nextCausedBy(`identity.resolved.${racing.type}`, racing, 30_000)).envelope.profileId!;
    };

    it('resolves no event through the cache to a profile being erased, whatever entry it read before the erasure deleted it', async () => {
      const erased = await send(
        eventOf('identify', {
          userId: 'user-rx',
          anonymousId: 'anon-rx',
          traits: { email: 'rx@example.com' },
        }),
      );
      expect(await cachedOwner('anonymous_id:anon-rx')).toBe(erased);
      const request = originEnvelope({
        type: 'privacy.erase.requested',
        source: 'test-source',
        occurredAt: new Date().toISOString(),
        data: {
          requestId: 'erase-rx',
          identifiers: [{ type: 'email', value: 'rx@example.com' }],
        } satisfies EraseRequestedPayload,
      });
      const racing = eventOf('track', { anonymousId: 'anon-rx' });
      const resolvedTo = await raceCacheClear(
        erased,
        async () => {
          await publisher.publish(SUBJECTS.privacy.eraseRequested, request);
          await tap.nextCausedBy(SUBJECTS.privacy.eraseDone('identity'), request, 30_000);
        },
        'anonymous_id:anon-rx',
        racing,
      );
      // Not the erased profile (it would be recreated downstream after its erasure): a new one, after it.
      expect(resolvedTo).not.toBe(erased);
      expect(await profiles().findOne({ _id: erased })).toBeNull();
      expect(await profiles().findOne({ _id: resolvedTo })).toMatchObject({
        identifiers: ['anonymous_id:anon-rx'],
      });
    });

    it('resolves no event through the cache to a profile being merged away, whatever entry it read before the merge deleted it', async () => {
      const anonymous = await send(
        eventOf('identify', { anonymousId: 'anon-rm', traits: { email: 'rm@example.com' } }),
      );
      const user = await send(eventOf('track', { userId: 'user-rm' }));
      expect(await cachedOwner('anonymous_id:anon-rm')).toBe(anonymous);
      const connecting = eventOf('track', { anonymousId: 'anon-rm', userId: 'user-rm' });
      const racing = eventOf('track', { anonymousId: 'anon-rm' });
      const resolvedTo = await raceCacheClear(
        anonymous,
        async () => expect(await send(connecting)).toBe(user),
        'anonymous_id:anon-rm',
        racing,
      );
      // The survivor, not the merged-away profile (an orphan downstream after identity.merged).
      expect(resolvedTo).toBe(user);
      expect(await profiles().findOne({ _id: anonymous })).toMatchObject({ mergedInto: user });
    });

    it('resolves no event through the cache to the survivor for an identifier a split is giving back', async () => {
      const anonymous = await send(eventOf('track', { anonymousId: 'anon-rt' }));
      const user = await send(eventOf('track', { userId: 'user-rt' }));
      await send(eventOf('track', { anonymousId: 'anon-rt', userId: 'user-rt' }));
      await send(eventOf('track', { anonymousId: 'anon-rt' })); // cached for the survivor
      expect(await cachedOwner('anonymous_id:anon-rt')).toBe(user);
      const merge = await merges().findOne({ survivorId: user, mergedIds: anonymous });
      const racing = eventOf('track', { anonymousId: 'anon-rt' });
      const resolvedTo = await raceCacheClear(
        user,
        async () => {
          const response = await fetch(`${under.service.url}/api/profiles/${user}/split`, {
            method: 'POST',
            headers: {
              authorization: 'Bearer identity-test-admin-token',
              'content-type': 'application/json',
            },
            body: JSON.stringify({ mergeId: merge!._id }),
          });
          expect(response.status).toBe(200);
        },
        'anonymous_id:anon-rt',
        racing,
      );
      expect(resolvedTo).toBe(anonymous);
      expect((await profiles().findOne({ _id: user }))!.identifiers).toEqual(['user_id:user-rt']);
    });
  });

  describe('with a second identity instance', () => {
    let second: BootedService;
    let handledBySecond = 0;
    beforeAll(async () => {
      second = await bootService(
        identitySpec({
          PORT: '0',
          NATS_URL: natsUrl,
          MONGO_URL: `${under.infra.mongoUrl}/${db.databaseName}`,
          REDIS_URL: under.redisUrl!,
          MESH_ADMIN_TOKEN: 'identity-test-admin-token',
          LOG_LEVEL: 'silent',
          MESSAGING_CONCURRENCY: '8',
        }),
      );
      // Counts what the second instance resolves (the real use case runs).
      const useCase = second.app.get(ResolveEventUseCase);
      const execute = useCase.execute.bind(useCase);
      useCase.execute = (...args) => {
        handledBySecond++;
        return execute(...args);
      };
    }, 60_000);
    afterAll(async () => {
      await second?.close();
    });

    it('converges 40 simultaneous events of one person (anonymous ids, e-mail, user id) on one live profile', async () => {
      // Each run of four events shares one anonymous id, so every event is connected to the others.
      const anonymous = (i: number) => `anon-par-${Math.floor(i / 4) % 8}`;
      const events = Array.from({ length: 40 }, (_, i) => {
        switch (i % 4) {
          case 0:
            return eventOf('track', { anonymousId: anonymous(i) });
          case 1:
            return eventOf('identify', { anonymousId: anonymous(i), traits: { email: 'par@example.com' } });
          case 2:
            return eventOf('track', { userId: 'user-par', anonymousId: anonymous(i) });
          default:
            return eventOf('identify', { userId: 'user-par', traits: { email: 'par@example.com' } });
        }
      });
      await Promise.all(
        events.map((event) =>
          publisher.publish(`ingest.${event.type}` as typeof SUBJECTS.ingest.track, event as never),
        ),
      );
      await Promise.all(
        events.map((event) => tap.nextCausedBy(`identity.resolved.${event.type}`, event, 90_000)),
      );
      await settled();
      expect(handledBySecond).toBeGreaterThan(0);

      const keys = [
        'user_id:user-par',
        'email:par@example.com',
        ...Array.from({ length: 8 }, (_, i) => `anonymous_id:anon-par-${i}`),
      ];
      const live = await liveProfilesWith(keys);
      expect(live).toHaveLength(1);
      expect([...live[0]!.identifiers].sort()).toEqual([...keys].sort());
      const owners = await identifiers()
        .find({ _id: { $in: keys } })
        .toArray();
      expect(owners.map((owner) => owner.profileId)).toEqual(Array(keys.length).fill(live[0]!._id));
      // Every merge completed, and each was published once.
      const audit = await merges().find({ survivorId: live[0]!._id }).toArray();
      expect(audit.every((merge) => merge.status === 'done')).toBe(true);
      const published = tap
        .messages(SUBJECTS.identity.merged)
        .map((message) => (message.envelope.data as ProfilesMergedPayload).mergeId);
      // Merges split by the split tests were published too.
      const expected = (
        await merges()
          .find({ status: { $in: ['done', 'split'] } })
          .toArray()
      ).map((merge) => merge._id);
      expect(new Set(published)).toEqual(new Set(expected));
    }, 120_000);
  });
});
