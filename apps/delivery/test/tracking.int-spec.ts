import {
  type CampaignSpecDto,
  type DeliveryClickedPayload,
  type DeliverySkippedPayload,
  type EraseDonePayload,
  type Envelope,
  originEnvelope,
  type RenderedEmailPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { type MessagePublisher } from '@mesh/messaging';
import {
  type MessageTap,
  type ReceivedEmail,
  type ServiceUnderTest,
  SmtpSink,
  startServiceUnderTest,
} from '@mesh/testing';
import { deliverySpec } from '../src/delivery.app.js';

const PUBLIC_URL = 'https://mesh.shop.example';

function campaign(campaignId: string): CampaignSpecDto {
  return {
    campaignId,
    name: campaignId,
    templateId: campaignId,
    variant: 'A',
    recommendation: { strategy: 'none', limit: 0 },
    sendPolicy: { maxPerDay: 0, transactional: false },
  };
}

function rendered(profileId: string, campaignId: string): Envelope<RenderedEmailPayload> {
  return originEnvelope({
    type: 'email.rendered',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    profileId,
    data: {
      campaign: campaign(campaignId),
      triggerKey: 't-1',
      template: { id: campaignId, version: 1 },
      to: `${profileId}@example.com`,
      subject: `${campaignId} for ${profileId}`,
      html: '<p><a href="https://shop.example/p/42?ref=mail&amp;x=1">Laptop</a></p>',
      text: 'https://shop.example/p/42?ref=mail&x=1',
    },
  });
}

describe('delivery: tracking and unsubscribe links', () => {
  let under: ServiceUnderTest;
  let sink: SmtpSink;
  let publisher: MessagePublisher;
  let tap: MessageTap;

  beforeAll(async () => {
    sink = new SmtpSink();
    const smtpPort = await sink.start();
    under = await startServiceUnderTest({
      name: 'delivery',
      spec: deliverySpec,
      redis: true,
      tap: '>',
      env: { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, MESH_PUBLIC_URL: PUBLIC_URL },
    });
    ({ publisher, tap } = under);
  }, 60_000);
  afterAll(async () => {
    await under?.close();
    await sink?.stop();
  });

  /** Sends one email and returns it with its send id. */
  const deliver = async (profileId: string, campaignId: string) => {
    const input = rendered(profileId, campaignId);
    await publisher.publish(SUBJECTS.renderer.rendered, input);
    const sent = await tap.nextCausedBy<{ sendId: string }>(SUBJECTS.delivery.sent, input);
    const email = sink.messages().find((received) => received.subject === `${campaignId} for ${profileId}`)!;
    return { email, sendId: sent.envelope.data.sendId };
  };
  /** A link of the email, pointed at the service under test. */
  const local = (url: string) => url.replace(PUBLIC_URL, under.service.url);
  const clickLink = (email: ReceivedEmail) => /href="([^"]+\/t\/c\/[^"]+)"/.exec(email.html)![1]!;
  const pixelLink = (email: ReceivedEmail) => /src="([^"]+\/t\/o\/[^"]+)"/.exec(email.html)![1]!;
  const unsubscribeLink = (email: ReceivedEmail) =>
    /<(https:[^>]+)>/.exec(email.headers['list-unsubscribe']!)![1]!;
  /** Changes one character of the token's signature. */
  const tamper = (url: string) =>
    url.replace(
      /\.([\w-])([\w-]+)(\.gif)?$/,
      (_all, first: string, rest: string, gif = '') => `.${first === 'A' ? 'B' : 'A'}${rest}${gif}`,
    );

  it('redirects a tracked click to the original URL and announces it', async () => {
    const { email, sendId } = await deliver('p-click', 'launch');
    const response = await fetch(local(clickLink(email)), { redirect: 'manual' });

    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('https://shop.example/p/42?ref=mail&x=1');
    const clicked = await tap.next<DeliveryClickedPayload>(
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
    const forged = `${under.service.url}/t/c/${Buffer.from(JSON.stringify({ k: 'c', s: sendId, u: 'https://evil.example' })).toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAA`;
    for (const url of [local(tamper(clickLink(email))), forged, `${under.service.url}/t/c/nonsense`]) {
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status).toBe(404);
      expect(response.headers.get('location')).toBeNull();
    }
    expect(
      tap
        .messages(SUBJECTS.delivery.clicked)
        .filter((m) => (m.envelope.data as { sendId: string }).sendId === sendId),
    ).toEqual([]);
  });

  it('serves the open pixel and announces the open; a tampered pixel is still an image but no open', async () => {
    const { email, sendId } = await deliver('p-open', 'launch');
    const tampered = await fetch(local(tamper(pixelLink(email))));
    expect(tampered.status).toBe(200);
    expect(tampered.headers.get('content-type')).toBe('image/gif');
    const pixel = await fetch(local(pixelLink(email)));
    expect(pixel.status).toBe(200);
    expect(
      Buffer.from(await pixel.arrayBuffer())
        .subarray(0, 6)
        .toString(),
    ).toBe('GIF89a');

    const opened = await tap.next(
      SUBJECTS.delivery.opened,
      (m) => (m.envelope.data as { sendId: string }).sendId === sendId,
    );
    expect(opened.envelope.profileId).toBe('p-open');
    expect(
      tap
        .messages(SUBJECTS.delivery.opened)
        .filter((m) => (m.envelope.data as { sendId: string }).sendId === sendId),
    ).toHaveLength(1);
  });

  it('one-click unsubscribe (RFC 8058 POST) stops the very next send', async () => {
    const { email, sendId } = await deliver('p-unsub', 'launch');
    const link = local(unsubscribeLink(email));

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
    await publisher.publish(SUBJECTS.renderer.rendered, next);
    const skipped = await tap.nextCausedBy<DeliverySkippedPayload>(SUBJECTS.delivery.skipped, next);
    expect(skipped.envelope.data).toMatchObject({ reason: 'suppressed', detail: 'unsubscribe' });
    const unsubscribed = await tap.next(
      SUBJECTS.delivery.unsubscribed,
      (m) => (m.envelope.data as { sendId: string }).sendId === sendId,
    );
    expect(unsubscribed.envelope).toMatchObject({
      profileId: 'p-unsub',
      data: { channel: 'email', campaignId: 'launch' },
    });
    expect(sink.messages().filter((received) => received.to.includes('p-unsub@example.com'))).toHaveLength(1);

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
    await publisher.publish(SUBJECTS.privacy.eraseRequested, request);
    const receipt = await tap.nextCausedBy<EraseDonePayload>(SUBJECTS.privacy.eraseDone('delivery'), request);
    expect(receipt.envelope.data).toMatchObject({
      requestId: 'erase-1',
      service: 'delivery',
      removed: { sends: 1, suppressedHashes: 1 },
    });

    const stored = await under.db.collection('sends').findOne({ _id: sendId as never });
    expect(stored).toMatchObject({ to: 'erased', profileId: 'erased', triggerKey: 'erased', status: 'sent' });
    const everything = JSON.stringify(
      await Promise.all(
        ['sends', 'consents', 'suppressions', 'deferred_sends'].map((name) =>
          under.db.collection(name).find().toArray(),
        ),
      ),
    );
    expect(everything).not.toContain('p-erase@example.com');

    const again = rendered('p-erase', 'receipt-mail');
    await publisher.publish(SUBJECTS.renderer.rendered, again);
    const skipped = await tap.nextCausedBy<DeliverySkippedPayload>(SUBJECTS.delivery.skipped, again);
    expect(skipped.envelope.data.reason).toBe('erased');
  });
});
