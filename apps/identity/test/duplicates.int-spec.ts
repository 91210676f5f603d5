import { randomUUID } from 'node:crypto';
import {
  type DuplicateCandidatePayload,
  type EraseDonePayload,
  type Envelope,
  originEnvelope,
  type ProfilesMergedPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { type MessagePublisher } from '@mesh/messaging';
import {
  consumerIsIdle,
  type MessageTap,
  publishCopy,
  type ServiceUnderTest,
  startServiceUnderTest,
  waitFor,
} from '@mesh/testing';
import { type Db } from 'mongodb';
import { type CandidateDocument } from '../src/duplicates/duplicates.repository.js';
import { identitySpec } from '../src/identity.app.js';
import { type IdentifierDocument } from '../src/resolution/identity-graph.repository.js';

const TOKEN = 'identity-test-admin-token';

function identify(ids: { userId?: string; anonymousId?: string }, traits: Record<string, unknown>): Envelope {
  return originEnvelope({
    type: 'identify',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    data: { messageId: randomUUID(), ...ids, traits },
  });
}

describe('identity: fuzzy duplicates', () => {
  let under: ServiceUnderTest;
  let publisher: MessagePublisher;
  let tap: MessageTap;
  let db: Db;

  beforeAll(async () => {
    under = await startServiceUnderTest({ name: 'identity', spec: identitySpec, tap: '>', redis: true });
    ({ publisher, tap, db } = under);
  }, 60_000);
  afterAll(async () => {
    await under?.close();
  });

  const send = async (event: Envelope) => {
    await publisher.publish(SUBJECTS.ingest.identify, event as never);
    return (await tap.nextCausedBy('identity.resolved.identify', event, 30_000)).envelope.profileId!;
  };
  const candidateFor = (profileId: string) =>
    tap.next<DuplicateCandidatePayload>(
      SUBJECTS.identity.candidate,
      (message) => message.envelope.data.profileIds.includes(profileId),
      30_000,
    );
  const candidateMessages = (candidateId: string) =>
    tap
      .messages(SUBJECTS.identity.candidate)
      .filter((message) => (message.envelope.data as DuplicateCandidatePayload).candidateId === candidateId);
  const candidates = () => db.collection<CandidateDocument>('candidates');
  const ownerOf = async (key: string) =>
    (await db.collection<IdentifierDocument>('identifiers').findOne({ _id: key }))?.profileId;
  /** Every identify has gone through duplicate detection. */
  const detected = () =>
    waitFor(
      'duplicate detection to settle',
      async () =>
        (await consumerIsIdle(under.natsUrl, 'IDENTITY', 'identity__identity_resolved_identify')) &&
        (await consumerIsIdle(under.natsUrl, 'INGEST', 'identity__ingest_any')),
      60_000,
    );
  const api = (method: string, path: string, token = TOKEN) =>
    fetch(`${under.service.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });

  it('merges a near-duplicate (name typo, same birthday and address, other e-mail) at once, through the normal merge path', async () => {
    const shopper = await send(
      identify(
        { anonymousId: 'anon-kathy' },
        {
          first_name: 'Katherine',
          last_name: 'Müller',
          email: 'kathy.m@example.com',
          birthday: '1987-03-14',
          address: { street: 'Hauptstraße 12', postal_code: '10115', city: 'Berlin' },
        },
      ),
    );
    const customer = identify(
      { userId: 'crm-4711' },
      {
        first_name: 'Katharine',
        last_name: 'Mueller',
        email: 'k.mueller@work.example',
        birthday: '1987-03-14',
        address: { street: 'Hauptstr. 12', postal_code: '10115' },
      },
    );
    const account = await send(customer);
    expect(account).not.toBe(shopper);

    const candidate = await candidateFor(shopper);
    expect(candidate.envelope.data).toMatchObject({
      profileIds: [shopper, account].sort(),
      decision: 'auto_merge',
      evidence: { attributes: { birthday: 1, postalCode: 1, street: 1 } },
    });
    expect(candidate.envelope.data.score).toBeGreaterThanOrEqual(0.95);
    const merged = await tap.next<ProfilesMergedPayload>(
      SUBJECTS.identity.merged,
      (message) => message.envelope.data.candidateId === candidate.envelope.data.candidateId,
      30_000,
    );
    // The survivor rule holds: the profile with the user id.
    expect(merged.envelope.data).toMatchObject({
      survivorId: account,
      mergedIds: [shopper],
      reason: 'fuzzy',
    });
    expect(await ownerOf('anonymous_id:anon-kathy')).toBe(account);
    await waitFor(
      'the candidate to be settled',
      async () =>
        (await candidates().findOne({ _id: candidate.envelope.data.candidateId }))?.status === 'merged',
      30_000,
    );

    // A redelivered identify proposes nothing new and merges nothing again.
    await publishCopy(under.natsUrl, SUBJECTS.ingest.identify, customer);
    await detected();
    expect(candidateMessages(candidate.envelope.data.candidateId)).toHaveLength(1);
    expect(tap.messages(SUBJECTS.identity.merged)).toHaveLength(1);
  });

  it('queues a likely duplicate for review; a rejected pair is never proposed again', async () => {
    const first = await send(
      identify(
        { anonymousId: 'anon-jonathan' },
        {
          first_name: 'Jonathan',
          last_name: 'Smith',
          phone: '+44 7911 123456',
          address: { street: '10 Downing Street', postal_code: 'SW1A 1AA' },
        },
      ),
    );
    // Short first name, one digit of the phone mistyped, postcode written without its space.
    const second = await send(
      identify(
        { anonymousId: 'anon-jon' },
        {
          first_name: 'Jon',
          last_name: 'Smith',
          phone: '+44 7911 123457',
          address: { postal_code: 'sw1a1aa' },
        },
      ),
    );
    const candidate = (await candidateFor(first)).envelope.data;
    expect(candidate).toMatchObject({ profileIds: [first, second].sort(), decision: 'review' });
    expect(candidate.score).toBeGreaterThanOrEqual(0.75);
    expect(candidate.score).toBeLessThan(0.95);

    const listed = (await (await api('GET', '/api/duplicates')).json()) as {
      candidates: { candidateId: string }[];
    };
    expect(listed.candidates.map((entry) => entry.candidateId)).toContain(candidate.candidateId);

    const rejected = await api('POST', `/api/duplicates/${candidate.candidateId}/reject`);
    expect(rejected.status).toBe(200);
    expect(await rejected.json()).toEqual({ candidateId: candidate.candidateId, status: 'rejected' });
    expect((await api('POST', `/api/duplicates/${candidate.candidateId}/accept`)).status).toBe(409);

    // The same person described again: not proposed again, not merged.
    await send(
      identify({ anonymousId: 'anon-jon' }, { first_name: 'Jon', last_name: 'Smith', city: 'London' }),
    );
    await detected();
    expect(candidateMessages(candidate.candidateId)).toHaveLength(1);
    expect(await ownerOf('anonymous_id:anon-jon')).toBe(second);
    const after = (await (await api('GET', '/api/duplicates')).json()) as {
      candidates: { candidateId: string }[];
    };
    expect(after.candidates.map((entry) => entry.candidateId)).not.toContain(candidate.candidateId);

    // Erasing one of them forgets what fuzzy matching kept about them.
    const erasure = originEnvelope({
      type: 'privacy.erase.requested',
      source: 'test-source',
      occurredAt: new Date().toISOString(),
      data: { requestId: randomUUID(), identifiers: [], profileIds: [second] },
    });
    await publisher.publish(SUBJECTS.privacy.eraseRequested, erasure);
    const receipt = await tap.nextCausedBy<EraseDonePayload>(
      SUBJECTS.privacy.eraseDone('identity'),
      erasure,
      30_000,
    );
    expect(receipt.envelope.data.removed.fuzzyMatching).toBe(2); // the description and the candidate
    expect(await db.collection<{ _id: string }>('people').countDocuments({ _id: second })).toBe(0);
    expect(await candidates().countDocuments({ _id: candidate.candidateId })).toBe(0);
    expect(
      await db.collection<{ profileIds: string[] }>('blocks').countDocuments({ profileIds: second }),
    ).toBe(0);
  });

  it('merges an accepted candidate (reason fuzzy); 404 for unknown ids, 401 without the token', async () => {
    const first = await send(
      identify(
        { anonymousId: 'anon-maria' },
        { name: 'María García', phone: '+34 612 345 678', address: { postal_code: '28013' } },
      ),
    );
    const second = await send(
      identify(
        { anonymousId: 'anon-mari' },
        { name: 'Mari Garcia', phone: '+34 612 345 679', address: { postal_code: '28013' } },
      ),
    );
    const candidate = (await candidateFor(first)).envelope.data;
    expect(candidate.decision).toBe('review');

    expect(
      (await api('POST', `/api/duplicates/${candidate.candidateId}/accept`, 'wrong-token-wrong-token'))
        .status,
    ).toBe(401);
    expect((await api('POST', '/api/duplicates/no-such-candidate/accept')).status).toBe(404);
    expect((await api('GET', '/api/duplicates?limit=0')).status).toBe(400);

    const accepted = await api('POST', `/api/duplicates/${candidate.candidateId}/accept`);
    expect(accepted.status).toBe(200);
    const body = (await accepted.json()) as { status: string; survivorId: string; mergeId: string };
    expect(body).toMatchObject({ status: 'merged' });
    const merged = await tap.next<ProfilesMergedPayload>(
      SUBJECTS.identity.merged,
      (message) => message.envelope.data.mergeId === body.mergeId,
    );
    expect(merged.envelope.data).toMatchObject({ reason: 'fuzzy', candidateId: candidate.candidateId });
    expect([first, second]).toContain(body.survivorId);
    expect(await ownerOf('anonymous_id:anon-maria')).toBe(body.survivorId);
    expect(await ownerOf('anonymous_id:anon-mari')).toBe(body.survivorId);
    expect((await api('POST', `/api/duplicates/${candidate.candidateId}/accept`)).status).toBe(409);
  });

  it('lets exactly one of two simultaneous decisions on a candidate win; the other answers 409', async () => {
    /** A review candidate for two fresh profiles (written directly: the race is the subject, not the scoring). */
    const candidateOf = async (tag: string) => {
      const profileIds = [
        await send(identify({ anonymousId: `anon-${tag}-1` }, {})),
        await send(identify({ anonymousId: `anon-${tag}-2` }, {})),
      ].sort() as [string, string];
      const candidateId = `candidate-${tag}`;
      await candidates().insertOne({
        _id: candidateId,
        profileIds,
        score: 0.8,
        evidence: { attributes: {}, blockingKeys: [] },
        decision: 'review',
        status: 'pending',
        createdAt: new Date(),
        schemaVersion: 1,
      });
      return { candidateId, profileIds };
    };
    const mergesOf = (candidateId: string) =>
      tap
        .messages(SUBJECTS.identity.merged)
        .filter((message) => (message.envelope.data as ProfilesMergedPayload).candidateId === candidateId);

    for (const [tag, order] of [
      ['race-1', ['accept', 'reject']],
      ['race-2', ['reject', 'accept']],
      ['race-3', ['accept', 'reject']],
    ] as const) {
      const { candidateId, profileIds } = await candidateOf(tag);
      const answers = await Promise.all(
        order.map(async (action) => {
          const response = await api('POST', `/api/duplicates/${candidateId}/${action}`);
          return { action, status: response.status, body: (await response.json()) as { error?: string } };
        }),
      );
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
      const winner = answers.find((answer) => answer.status === 200)!.action;
      expect(answers.find((answer) => answer.status === 409)!.body.error).toBe('already_decided');
      const stored = await candidates().findOne({ _id: candidateId });
      if (winner === 'accept') {
        expect(stored!.status).toBe('merged');
        await waitFor('identity.merged', () => mergesOf(candidateId).length === 1, 30_000);
        expect(await ownerOf(`anonymous_id:anon-${tag}-1`)).toBe(await ownerOf(`anonymous_id:anon-${tag}-2`));
      } else {
        expect(stored!.status).toBe('rejected');
        expect(mergesOf(candidateId)).toHaveLength(0);
        const owners = [
          await ownerOf(`anonymous_id:anon-${tag}-1`),
          await ownerOf(`anonymous_id:anon-${tag}-2`),
        ];
        expect(owners.sort()).toEqual(profileIds);
      }
    }

    // Two accepts at once: one merges, the other is told the candidate is taken.
    const { candidateId } = await candidateOf('race-4');
    const statuses = await Promise.all(
      [0, 1].map(async () => (await api('POST', `/api/duplicates/${candidateId}/accept`)).status),
    );
    expect(statuses.sort()).toEqual([200, 409]);
    await waitFor('identity.merged', () => mergesOf(candidateId).length === 1, 30_000);
    expect(await candidates().findOne({ _id: candidateId })).toMatchObject({ status: 'merged' });
  });

  it('leaves namesakes and neighbours alone: a different birthday and street, or another first name', async () => {
    const original = await send(
      identify(
        { anonymousId: 'anon-thomas' },
        {
          first_name: 'Thomas',
          last_name: 'Schneider',
          birthday: '1975-05-20',
          address: { street: 'Lindenweg 3', postal_code: '50667' },
        },
      ),
    );
    // Same name and postcode, another birthday and street: the same block, a low score.
    await send(
      identify(
        { anonymousId: 'anon-thomas-2' },
        {
          first_name: 'Thomas',
          last_name: 'Schneider',
          birthday: '1998-12-01',
          address: { street: 'Rheinufer 90', postal_code: '50667' },
        },
      ),
    );
    // His wife: same surname, address and postcode.
    await send(
      identify(
        { anonymousId: 'anon-sabine' },
        {
          first_name: 'Sabine',
          last_name: 'Schneider',
          birthday: '1977-08-02',
          address: { street: 'Lindenweg 3', postal_code: '50667' },
        },
      ),
    );
    // Shares no blocking key at all.
    await send(identify({ anonymousId: 'anon-other' }, { first_name: 'Thomas', last_name: 'Schneider' }));
    await detected();
    expect(await candidates().countDocuments({ profileIds: original })).toBe(0);
    expect(
      tap
        .messages(SUBJECTS.identity.candidate)
        .filter((message) =>
          (message.envelope.data as DuplicateCandidatePayload).profileIds.includes(original),
        ),
    ).toHaveLength(0);
  });
});
