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

function identifyWith(email: string, anonymousId: string): Envelope<IdentifyPayload> {
  return originEnvelope({
    type: 'identify',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    data: { messageId: randomUUID(), anonymousId, traits: { email } },
  });
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

  const send = async (event: Envelope<IdentifyPayload>) => {
    await publisher.publish(SUBJECTS.ingest.identify, event);
    return (await tap.nextCausedBy(SUBJECTS.identity.resolved.identify, event, 30_000)).envelope.profileId!;
  };
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
});
