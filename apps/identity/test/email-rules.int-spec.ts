import { randomUUID } from 'node:crypto';
import {
  type EraseDonePayload,
  type Envelope,
  type EraseRequestedPayload,
  type IdentifyPayload,
  originEnvelope,
  SUBJECTS,
} from '@mesh/contracts';
import { type MessagePublisher } from '@mesh/messaging';
import { type MessageTap, type ServiceUnderTest, startServiceUnderTest } from '@mesh/testing';
import { type Db } from 'mongodb';
import { identitySpec } from '../src/identity.app.js';
import { ApplyEmailRulesUseCase } from '../src/resolution/apply-email-rules.usecase.js';
import { IdentityGraphRepository } from '../src/resolution/identity-graph.repository.js';
import { ProfileMerger } from '../src/resolution/profile-merger.js';

function identifyWith(email: string, anonymousId: string): Envelope<IdentifyPayload> {
  return originEnvelope({
    type: 'identify',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    data: { messageId: randomUUID(), anonymousId, traits: { email } },
  });
}

/** Publishes an identify call and waits for identity to resolve it: the profile it went to. */
async function resolvedProfile(under: ServiceUnderTest, event: Envelope<IdentifyPayload>): Promise<string> {
  await under.publisher.publish(SUBJECTS.ingest.identify, event);
  return (await under.tap.nextCausedBy(SUBJECTS.identity.resolved.identify, event, 30_000)).envelope
    .profileId!;
}

describe('identity with IDENTITY_EMAIL_RULES=gmail', () => {
  let under: ServiceUnderTest;
  let publisher: MessagePublisher;
  let tap: MessageTap;
  let db: Db;

  beforeAll(async () => {
    under = await startServiceUnderTest({
      name: 'identity',
      spec: identitySpec,
      tap: '>',
      redis: true,
      env: { IDENTITY_EMAIL_RULES: 'gmail' },
    });
    ({ publisher, tap, db } = under);
  }, 60_000);
  afterAll(async () => {
    await under?.close();
  });

  const send = (event: Envelope<IdentifyPayload>) => resolvedProfile(under, event);
  const lookup = (email: string) =>
    fetch(`${under.service.url}/api/profiles?email=${encodeURIComponent(email)}`, {
      headers: { authorization: 'Bearer identity-test-admin-token' },
    });

  it('resolves Gmail variants of one address to one profile, found and erased by a third variant', async () => {
    const first = await send(identifyWith('a.b+x@gmail.com', 'anon-rules-1'));
    const second = await send(identifyWith('ab@gmail.com', 'anon-rules-2'));
    expect(second).toBe(first);
    const identifiers = await db
      .collection<{ _id: string; profileId: string }>('identifiers')
      .find({ type: 'email' })
      .toArray();
    expect(identifiers).toEqual([expect.objectContaining({ _id: 'email:ab@gmail.com', profileId: first })]);

    const found = await lookup(' A.B+other@GoogleMail.com ');
    expect(found.status).toBe(200);
    const body = (await found.json()) as { id: string; identifiers: unknown[] };
    expect(body.id).toBe(first);
    expect(body.identifiers).toContainEqual({ type: 'email', value: 'ab@gmail.com' });

    const data: EraseRequestedPayload = {
      requestId: 'erase-rules',
      identifiers: [{ type: 'email', value: 'A.B+Erase@googlemail.com' }],
    };
    const request = originEnvelope({
      type: 'privacy.erase.requested',
      source: 'test-source',
      occurredAt: new Date().toISOString(),
      data,
    });
    await publisher.publish(SUBJECTS.privacy.eraseRequested, request);
    const receipt = await tap.nextCausedBy<EraseDonePayload>(
      SUBJECTS.privacy.eraseDone('identity'),
      request,
      30_000,
    );
    expect(receipt.envelope.data.removed).toMatchObject({ identifiers: 3, profiles: 1 });
    expect((await lookup('ab@gmail.com')).status).toBe(404);
  }, 90_000);

  it('records at boot that the stored addresses are under these rules', async () => {
    const marker = await db
      .collection<{ _id: string; value: string }>('graph_settings')
      .findOne({ _id: 'email-rules' });
    expect(marker?.value).toBe('gmail');
  });
});

describe('identity: turning IDENTITY_EMAIL_RULES on rewrites the addresses stored before', () => {
  let under: ServiceUnderTest;
  let tap: MessageTap;
  let db: Db;

  beforeAll(async () => {
    under = await startServiceUnderTest({ name: 'identity', spec: identitySpec, tap: '>', redis: true });
    ({ tap, db } = under);
  }, 60_000);
  afterAll(async () => {
    await under?.close();
  });

  const send = (event: Envelope<IdentifyPayload>) => resolvedProfile(under, event);
  const emails = async () =>
    (
      await db
        .collection<{ _id: string; profileId: string }>('identifiers')
        .find({ type: 'email' })
        .sort({ _id: 1 })
        .toArray()
    ).map(({ _id, profileId }) => ({ _id, profileId }));

  it('merges the profiles whose addresses are one under the rules, and stores every address normalized, once', async () => {
    // Stored without rules: four profiles, two of them the same Gmail address.
    const tagged = await send(identifyWith('a.b+x@gmail.com', 'anon-before-1'));
    const plain = await send(identifyWith('ab@gmail.com', 'anon-before-2'));
    const other = await send(identifyWith('Someone@Example.com', 'anon-before-3'));
    const alone = await send(identifyWith('c.d@googlemail.com', 'anon-before-4'));
    expect(new Set([tagged, plain, other, alone]).size).toBe(4);

    const app = under.service.app;
    const apply = new ApplyEmailRulesUseCase(app.get(IdentityGraphRepository), app.get(ProfileMerger), [
      'gmail',
    ]);
    const report = await apply.applyOnce();

    expect(report).toEqual({ scanned: 4, rewritten: 2, merged: 1, refused: 0 });
    const merged = await tap.next<{ reason: string; survivorId: string; mergedIds: string[] }>(
      SUBJECTS.identity.merged,
      (m) => (m.envelope.data as { reason: string }).reason === 'email rules',
    );
    const survivor = merged.envelope.data.survivorId;
    expect([survivor, ...merged.envelope.data.mergedIds].sort()).toEqual([tagged, plain].sort());
    expect(await emails()).toEqual([
      { _id: 'email:ab@gmail.com', profileId: survivor },
      { _id: 'email:cd@gmail.com', profileId: alone },
      { _id: 'email:someone@example.com', profileId: other },
    ]);
    const survivorProfile = await db
      .collection<{ _id: string; identifiers: string[] }>('profiles')
      .findOne({ _id: survivor });
    expect(survivorProfile!.identifiers.filter((key) => key.startsWith('email:'))).toEqual([
      'email:ab@gmail.com',
    ]);

    // Applied once: the marker keeps a restart from scanning again; running it anyway changes nothing.
    expect(await apply.applyOnce()).toBeUndefined();
    expect(await apply.execute()).toEqual({ scanned: 3, rewritten: 0, merged: 0, refused: 0 });
    expect(await emails()).toHaveLength(3);
  }, 90_000);
});
