import {
  type DeliveryClickedPayload,
  type DeliverySkippedPayload,
  type EraseDonePayload,
  originEnvelope,
  SUBJECTS,
} from '@mesh/contracts';
import {
  campaignSpec,
  clickLink,
  type DeliveryUnderTest,
  pixelLink,
  PUBLIC_URL,
  renderedEmail,
  startDeliveryUnderTest,
  unsubscribeLink,
} from './delivery-fixture.js';

const rendered = (profileId: string, campaignId: string) =>
  renderedEmail(profileId, campaignSpec(campaignId, { variant: 'A' }), {
    html: '<p><a href="https://shop.example/p/42?ref=mail&amp;x=1">Laptop</a></p>',
    text: 'https://shop.example/p/42?ref=mail&x=1',
  });

describe('delivery: tracking and unsubscribe links', () => {
  let delivery: DeliveryUnderTest;

  beforeAll(async () => {
    delivery = await startDeliveryUnderTest({ env: { MESH_PUBLIC_URL: PUBLIC_URL } });
  }, 60_000);
  afterAll(() => delivery?.close());

  /** Sends one email and returns it with its send id. */
  const deliver = async (profileId: string, campaignId: string) => {
    const sent = await delivery.deliverRendered<{ sendId: string }>(rendered(profileId, campaignId));
    const email = delivery.sink
      .messages()
      .find((received) => received.subject === `${campaignId} for ${profileId}`)!;
    return { email, sendId: sent.envelope.data.sendId };
  };
  /** Changes one character of the token's signature. */
  const tamper = (url: string) =>
    url.replace(
      /\.([\w-])([\w-]+)(\.gif)?$/,
      (_all, first: string, rest: string, gif = '') => `.${first === 'A' ? 'B' : 'A'}${rest}${gif}`,
    );

  it('redirects a tracked click to the original URL and announces it', async () => {
    const { email, sendId } = await deliver('p-click', 'launch');
    const response = await fetch(delivery.local(clickLink(email)), { redirect: 'manual' });

    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('https://shop.example/p/42?ref=mail&x=1');
    const clicked = await delivery.tap.next<DeliveryClickedPayload>(
      SUBJECTS.delivery.clicked,
      (message) => message.envelope.data.sendId === sendId,
    );
    expect(clicked.envelope.profileId).toBe('p-click');
    expect(clicked.envelope.data).toMatchObject({
      campaignId: 'launch',
      triggerKey: 't-1',
      variant: 'A',
      url: 'https://shop.example/p/42?ref=mail&x=1',
    });
  });

  it('never redirects for a tampered or made-up token', async () => {
    const { email, sendId } = await deliver('p-tamper', 'launch');
    const forged = `${delivery.service.url}/t/c/${Buffer.from(JSON.stringify({ k: 'c', s: sendId, u: 'https://evil.example' })).toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAA`;
    for (const url of [
      delivery.local(tamper(clickLink(email))),
      forged,
      `${delivery.service.url}/t/c/nonsense`,
    ]) {
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status).toBe(404);
      expect(response.headers.get('location')).toBeNull();
    }
    expect(
      delivery.tap
        .messages(SUBJECTS.delivery.clicked)
        .filter((m) => (m.envelope.data as { sendId: string }).sendId === sendId),
    ).toEqual([]);
  });

  it('serves the open pixel and announces the open; a tampered pixel is still an image but no open', async () => {
    const { email, sendId } = await deliver('p-open', 'launch');
    const tampered = await fetch(delivery.local(tamper(pixelLink(email))));
    expect(tampered.status).toBe(200);
    expect(tampered.headers.get('content-type')).toBe('image/gif');
    const pixel = await fetch(delivery.local(pixelLink(email)));
    expect(pixel.status).toBe(200);
    expect(
      Buffer.from(await pixel.arrayBuffer())
        .subarray(0, 6)
        .toString(),
    ).toBe('GIF89a');

    const opened = await delivery.tap.next(
      SUBJECTS.delivery.opened,
      (m) => (m.envelope.data as { sendId: string }).sendId === sendId,
    );
    expect(opened.envelope.profileId).toBe('p-open');
    expect(
      delivery.tap
        .messages(SUBJECTS.delivery.opened)
        .filter((m) => (m.envelope.data as { sendId: string }).sendId === sendId),
    ).toHaveLength(1);
  });

  it('one-click unsubscribe (RFC 8058 POST) stops the very next send', async () => {
    const { email, sendId } = await deliver('p-unsub', 'launch');
    const link = delivery.local(unsubscribeLink(email));

    const confirmPage = await fetch(link);
    expect(confirmPage.status).toBe(200);
    expect(await confirmPage.text()).toContain('<form method="post">');

    const response = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('You are unsubscribed');

    // No waiting: the unsubscribe took effect before the answer.
    const next = rendered('p-unsub', 'follow-up');
    await delivery.publishRendered(next);
    const skipped = await delivery.tap.nextCausedBy<DeliverySkippedPayload>(SUBJECTS.delivery.skipped, next);
    expect(skipped.envelope.data).toMatchObject({ reason: 'suppressed', detail: 'unsubscribe' });
    const unsubscribed = await delivery.tap.next(
      SUBJECTS.delivery.unsubscribed,
      (m) => (m.envelope.data as { sendId: string }).sendId === sendId,
    );
    expect(unsubscribed.envelope).toMatchObject({
      profileId: 'p-unsub',
      data: { channel: 'email', campaignId: 'launch' },
    });
    expect(delivery.emailsTo('p-unsub@example.com')).toHaveLength(1);

    const tampered = await fetch(tamper(link), { method: 'POST' });
    expect(tampered.status).toBe(404);
  });

  it('erases a person: sends scrubbed, only the address hash kept to block future email, receipt published', async () => {
    const { sendId } = await deliver('p-erase', 'launch');
    const request = originEnvelope({
      type: 'privacy.erase.requested',
      source: 'ingest',
      occurredAt: new Date().toISOString(),
      data: {
        requestId: 'erase-1',
        identifiers: [{ type: 'email' as const, value: 'p-erase@example.com' }],
        profileIds: ['p-erase'],
      },
    });
    await delivery.publisher.publish(SUBJECTS.privacy.eraseRequested, request);
    const receipt = await delivery.tap.nextCausedBy<EraseDonePayload>(
      SUBJECTS.privacy.eraseDone('delivery'),
      request,
    );
    expect(receipt.envelope.data).toMatchObject({
      requestId: 'erase-1',
      service: 'delivery',
      removed: { sends: 1, suppressedHashes: 1 },
    });

    const stored = await delivery.db.collection('sends').findOne({ _id: sendId as never });
    expect(stored).toMatchObject({ to: 'erased', profileId: 'erased', triggerKey: 'erased', status: 'sent' });
    const everything = JSON.stringify(
      await Promise.all(
        ['sends', 'consents', 'suppressions', 'deferred_sends'].map((name) =>
          delivery.db.collection(name).find().toArray(),
        ),
      ),
    );
    expect(everything).not.toContain('p-erase@example.com');

    const again = rendered('p-erase', 'receipt-mail');
    await delivery.publishRendered(again);
    const skipped = await delivery.tap.nextCausedBy<DeliverySkippedPayload>(SUBJECTS.delivery.skipped, again);
    expect(skipped.envelope.data.reason).toBe('erased');
  });
});
