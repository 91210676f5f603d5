import {
  type DeliveryBouncedPayload,
  type DeliveryComplainedPayload,
  type DeliverySkippedPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { waitFor } from '@mesh/testing';
import { generateKeyPairSync, sign } from 'node:crypto';
import { SnsCertificates } from '../src/feedback/sns-certificates.js';
import {
  signGeneric,
  signMailgun,
  signSendgrid,
  type SnsMessage,
  snsStringToSign,
} from '../src/feedback/webhook-signatures.js';
import {
  ADMIN,
  campaignSpec,
  type DeliveryUnderTest,
  renderedEmail,
  startDeliveryUnderTest,
} from './delivery-fixture.js';

const SECRET = 'generic-webhook-secret-for-tests';
const MAILGUN_KEY = 'mailgun-signing-key-for-tests';
/** Stands in for SendGrid's signing key; delivery is given its public half, as SendGrid shows it. */
const SENDGRID = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
/** Stands in for an AWS SNS signing certificate's key; delivery is told its public half in advance. */
const SNS = generateKeyPairSync('rsa', { modulusLength: 2048 });
const SNS_CERT_URL = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem';
const SES_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ses-feedback';

const rendered = (
  profileId: string,
  campaignId: string,
  triggerKey = 't-1',
  options: { maxPerDay?: number; to?: string } = {},
) =>
  renderedEmail(
    profileId,
    campaignSpec(campaignId, {
      variant: 'B',
      sendPolicy: { maxPerDay: options.maxPerDay ?? 0, transactional: false },
    }),
    {
      triggerKey,
      to: options.to ?? `${profileId}@example.com`,
      subject: `${campaignId} for ${profileId} (${triggerKey})`,
    },
  );

const now = () => Math.floor(Date.now() / 1000);

describe('delivery: bounces and complaints reported by the ESP', () => {
  let delivery: DeliveryUnderTest;

  beforeAll(async () => {
    delivery = await startDeliveryUnderTest({
      env: {
        DELIVERY_WEBHOOK_SECRET: SECRET,
        MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY,
        SES_SNS_TOPIC_ARNS: SES_TOPIC,
        SENDGRID_WEBHOOK_PUBLIC_KEY: SENDGRID.publicKey
          .export({ format: 'der', type: 'spki' })
          .toString('base64'),
        DELIVERY_SOFT_BOUNCE_LIMIT: '3',
      },
    });
    delivery.service.app.get(SnsCertificates).know(SNS_CERT_URL, SNS.publicKey);
  }, 60_000);
  afterAll(() => delivery?.close());

  /** Sends one email; returns its Message-ID header and send id. */
  const deliver = async (
    profileId: string,
    campaignId: string,
    triggerKey = 't-1',
    options: { maxPerDay?: number; to?: string } = {},
  ) => {
    const sent = await delivery.deliverRendered<{ sendId: string; smtpMessageId: string }>(
      rendered(profileId, campaignId, triggerKey, options),
    );
    return sent.envelope.data;
  };
  const postGeneric = (
    body: unknown,
    sign: (raw: string) => string = (raw) => signGeneric(SECRET, now(), raw),
  ) => {
    const raw = JSON.stringify(body);
    return fetch(`${delivery.service.url}/webhooks/esp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'mesh-signature': sign(raw) },
      body: raw,
    });
  };
  const mailgunBody = (
    eventData: Record<string, unknown>,
    token = `tok-${String(eventData.id)}`,
    key = MAILGUN_KEY,
  ) => {
    const timestamp = String(now());
    return {
      signature: { timestamp, token, signature: signMailgun(key, timestamp, token) },
      'event-data': { timestamp: Date.now() / 1000, 'log-level': 'error', tags: [], ...eventData },
    };
  };
  const postMailgun = (body: unknown) =>
    fetch(`${delivery.service.url}/webhooks/mailgun`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const postSendgrid = (events: unknown, privateKey = SENDGRID.privateKey, timestamp = String(now())) => {
    const raw = JSON.stringify(events);
    return fetch(`${delivery.service.url}/webhooks/sendgrid`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-twilio-email-event-webhook-signature': signSendgrid(privateKey, timestamp, raw),
        'x-twilio-email-event-webhook-timestamp': timestamp,
      },
      body: raw,
    });
  };
  const snsNotification = (sesNotification: unknown, overrides: Partial<SnsMessage> = {}) => {
    const message: SnsMessage = {
      Type: 'Notification',
      MessageId: `sns-${Math.random()}`,
      TopicArn: SES_TOPIC,
      Message: JSON.stringify(sesNotification),
      Timestamp: new Date().toISOString(),
      SignatureVersion: '2',
      Signature: '',
      SigningCertURL: SNS_CERT_URL,
      ...overrides,
    };
    return {
      ...message,
      Signature: sign('sha256', Buffer.from(snsStringToSign(message)), SNS.privateKey).toString('base64'),
    };
  };
  const postSes = (message: object) =>
    fetch(`${delivery.service.url}/webhooks/ses`, {
      method: 'POST',
      // As SNS posts it.
      headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
      body: JSON.stringify(message),
    });
  const suppression = async (email: string) => {
    const response = await fetch(`${delivery.service.url}/admin/suppressions/${encodeURIComponent(email)}`, {
      headers: ADMIN,
    });
    return response.status === 200
      ? ((await response.json()) as { reason: string; source: string })
      : undefined;
  };
  const bouncesOf = (sendId: string) =>
    delivery.tap
      .messages(SUBJECTS.delivery.bounced)
      .filter((m) => (m.envelope.data as DeliveryBouncedPayload).sendId === sendId);

  it('a signed generic hard bounce suppresses the address and announces delivery.bounced once, even when redelivered', async () => {
    const { sendId, smtpMessageId } = await deliver('p-hard', 'welcome');
    const body = {
      events: [
        {
          id: 'esp-evt-1',
          type: 'bounce',
          bounceType: 'hard',
          email: 'p-hard@example.com',
          messageId: smtpMessageId,
          occurredAt: new Date().toISOString(),
          diagnostic: '550 5.1.1 user unknown',
        },
      ],
    };
    const first = await postGeneric(body);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: 1, applied: 1, duplicates: 0, ignored: 0 });
    expect(await suppression('p-hard@example.com')).toMatchObject({
      reason: 'hard_bounce',
      source: 'esp:generic',
    });
    const bounced = await delivery.tap.next<DeliveryBouncedPayload>(
      SUBJECTS.delivery.bounced,
      (m) => m.envelope.data.sendId === sendId,
    );
    expect(bounced.envelope.profileId).toBe('p-hard');
    expect(bounced.envelope.data).toMatchObject({
      campaignId: 'welcome',
      variant: 'B',
      kind: 'hard',
      to: 'p-hard@example.com',
      diagnostic: '550 5.1.1 user unknown',
    });

    // The ESP retries (new signature, same event id): nothing more happens.
    const again = await postGeneric(body);
    expect(await again.json()).toEqual({ received: 1, applied: 0, duplicates: 1, ignored: 0 });
    // The next email to the address is stopped by the suppression list.
    const next = rendered('p-hard', 'welcome', 't-2');
    await delivery.publishRendered(next);
    const skipped = await delivery.tap.nextCausedBy<DeliverySkippedPayload>(SUBJECTS.delivery.skipped, next);
    expect(skipped.envelope.data).toMatchObject({ reason: 'suppressed', detail: 'hard_bounce' });
    // One message id (JetStream keeps one message per id), whatever the tap saw published.
    expect(new Set(bouncesOf(sendId).map((m) => m.envelope.id)).size).toBe(1);
  });

  it('refuses unsigned, wrongly signed, stale and malformed calls (401 before anything else, 400 naming the field)', async () => {
    const body = {
      events: [
        {
          id: 'forged-1',
          type: 'complaint',
          email: 'p-forged@example.com',
          occurredAt: new Date().toISOString(),
        },
      ],
    };
    expect((await postGeneric(body, () => '')).status).toBe(401);
    expect(
      (await postGeneric(body, (raw) => signGeneric('some-other-secret-value', now(), raw))).status,
    ).toBe(401);
    expect((await postGeneric(body, (raw) => signGeneric(SECRET, now() - 3600, raw))).status).toBe(401);
    // signed over another body than the one sent
    expect((await postGeneric(body, () => signGeneric(SECRET, now(), '{"events":[]}'))).status).toBe(401);
    expect(await suppression('p-forged@example.com')).toBeUndefined();

    const invalid = await postGeneric({ events: [{ ...body.events[0], type: 'bounce', email: 'nope' }] });
    expect(invalid.status).toBe(400);
    const fields = ((await invalid.json()) as { fields: Record<string, string[]> }).fields;
    expect(Object.keys(fields).sort()).toEqual(['events.0.bounceType', 'events.0.email']);

    const forgedMailgun = mailgunBody(
      { id: 'mg-forged', event: 'complained', recipient: 'p-forged@example.com' },
      'tok',
      'wrong-key',
    );
    expect((await postMailgun(forgedMailgun)).status).toBe(401);
    expect((await postMailgun({ 'event-data': {} })).status).toBe(401);
    // Signed, but without its event: the field is named, not a 500.
    const signedOnly = mailgunBody({
      id: 'mg-no-event',
      event: 'failed',
      recipient: 'x@example.com',
    }) as Record<string, unknown>;
    delete signedOnly['event-data'];
    const noEvent = await postMailgun(signedOnly);
    expect(noEvent.status).toBe(400);
    expect(((await noEvent.json()) as { fields: Record<string, string[]> }).fields).toHaveProperty(
      'event-data',
    );
    expect(await suppression('p-forged@example.com')).toBeUndefined();
  });

  it("takes Mailgun's complained and failed events: complaint suppresses, three soft bounces within the window suppress", async () => {
    const { sendId, smtpMessageId } = await deliver('p-complains', 'promo');
    const complained = mailgunBody({
      id: 'mg-complaint-1',
      event: 'complained',
      recipient: 'p-complains@example.com',
      message: {
        headers: { 'message-id': smtpMessageId.replace(/[<>]/g, ''), to: 'p-complains@example.com' },
      },
    });
    const response = await postMailgun(complained);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ applied: 1 });
    expect(await suppression('p-complains@example.com')).toMatchObject({
      reason: 'complaint',
      source: 'esp:mailgun',
    });
    const announced = await delivery.tap.next<DeliveryComplainedPayload>(
      SUBJECTS.delivery.complained,
      (m) => m.envelope.data.sendId === sendId,
    );
    expect(announced.envelope.data).toMatchObject({ campaignId: 'promo', to: 'p-complains@example.com' });
    // Mailgun's other events are acknowledged and ignored; a redelivered complaint counts once.
    expect(
      await (
        await postMailgun(
          mailgunBody({ id: 'mg-open', event: 'opened', recipient: 'p-complains@example.com' }),
        )
      ).json(),
    ).toMatchObject({ ignored: 1 });
    expect(await (await postMailgun(complained)).json()).toMatchObject({ duplicates: 1 });

    const softly = (n: number) =>
      mailgunBody({
        id: `mg-soft-${n}`,
        event: 'failed',
        severity: 'temporary',
        reason: 'generic',
        recipient: 'p-full@example.com',
        'delivery-status': { code: 452, message: 'mailbox full' },
      });
    for (const n of [1, 2]) expect((await postMailgun(softly(n))).status).toBe(200);
    expect(await postMailgun(softly(2)).then((r) => r.json())).toMatchObject({ duplicates: 1 });
    expect(await suppression('p-full@example.com')).toBeUndefined();
    expect((await postMailgun(softly(3))).status).toBe(200);
    expect(await suppression('p-full@example.com')).toMatchObject({ reason: 'soft_bounces' });
  });

  it('a permanent Mailgun failure for one of our emails bounces it hard and gives its cap slot back', async () => {
    // One email a day: this one takes the slot…
    const { sendId, smtpMessageId } = await deliver('p-gone', 'promo', 't-1', { maxPerDay: 1 });
    const blocked = rendered('p-gone', 'digest', 't-1', { maxPerDay: 1, to: 'p-gone@new.example' });
    await delivery.publishRendered(blocked);
    expect(
      (await delivery.tap.nextCausedBy<DeliverySkippedPayload>(SUBJECTS.delivery.skipped, blocked)).envelope
        .data,
    ).toMatchObject({ reason: 'frequency_capped', detail: 'daily_cap' });

    const body = mailgunBody({
      id: 'mg-failed-permanent',
      event: 'failed',
      severity: 'permanent',
      reason: 'bounce',
      recipient: 'p-gone@example.com',
      message: { headers: { 'message-id': smtpMessageId } },
      'delivery-status': { code: 550, message: '5.1.1 The email account does not exist' },
    });
    expect((await postMailgun(body)).status).toBe(200);
    const bounced = await delivery.tap.next<DeliveryBouncedPayload>(
      SUBJECTS.delivery.bounced,
      (m) => m.envelope.data.sendId === sendId,
    );
    expect(bounced.envelope.data).toMatchObject({
      kind: 'hard',
      diagnostic: '550 5.1.1 The email account does not exist bounce',
    });
    await waitFor(
      'the address suppressed',
      async () => (await suppression('p-gone@example.com'))?.reason === 'hard_bounce',
    );
    // …until the ESP says it never arrived: the next campaign (to the profile's new address) may send.
    await deliver('p-gone', 'digest', 't-2', { maxPerDay: 1, to: 'p-gone@new.example' });
  });

  it("takes SendGrid's signed Event Webhook: a bounce bounces our email hard, a spam report suppresses, the rest is ignored", async () => {
    const { sendId, smtpMessageId } = await deliver('p-sendgrid', 'welcome');
    const events = [
      {
        email: 'p-sendgrid@example.com',
        timestamp: now(),
        event: 'bounce',
        type: 'bounce',
        status: '5.1.1',
        reason: '550 5.1.1 The email account does not exist',
        'smtp-id': smtpMessageId,
        sg_event_id: 'sg-bounce-1',
        sg_message_id: 'abc.filter0001',
        category: ['welcome'],
      },
      { email: 'p-spam@example.com', timestamp: now(), event: 'spamreport', sg_event_id: 'sg-spam-1' },
      { email: 'p-sendgrid@example.com', timestamp: now(), event: 'open', sg_event_id: 'sg-open-1' },
      { email: 'not-an-address', timestamp: now(), event: 'bounce' },
    ];

    const response = await postSendgrid(events);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: 4, applied: 2, duplicates: 0, ignored: 2 });
    const bounced = await delivery.tap.next<DeliveryBouncedPayload>(
      SUBJECTS.delivery.bounced,
      (m) => m.envelope.data.sendId === sendId,
    );
    expect(bounced.envelope.data).toMatchObject({
      kind: 'hard',
      diagnostic: '5.1.1 550 5.1.1 The email account does not exist',
    });
    expect(await suppression('p-sendgrid@example.com')).toMatchObject({
      reason: 'hard_bounce',
      source: 'esp:sendgrid',
    });
    expect(await suppression('p-spam@example.com')).toMatchObject({ reason: 'complaint' });

    // SendGrid retries a batch it thinks failed: each event counts once.
    expect(await (await postSendgrid(events)).json()).toMatchObject({ applied: 0, duplicates: 2 });
    expect(bouncesOf(sendId)).toHaveLength(1);
    // Signed with another key, signed too long ago, or not signed: refused before anything is read.
    const forged = [
      { email: 'p-forged-sg@example.com', timestamp: now(), event: 'spamreport', sg_event_id: 'x' },
    ];
    const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    expect((await postSendgrid(forged, stranger)).status).toBe(401);
    expect((await postSendgrid(forged, SENDGRID.privateKey, String(now() - 3_600))).status).toBe(401);
    const unsignedCall = await fetch(`${delivery.service.url}/webhooks/sendgrid`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(forged),
    });
    expect(unsignedCall.status).toBe(401);
    expect(await suppression('p-forged-sg@example.com')).toBeUndefined();
  });

  it('takes SES feedback through SNS: a permanent bounce bounces our email hard, a complaint suppresses, once each', async () => {
    const { sendId, smtpMessageId } = await deliver('p-ses', 'welcome');
    const mail = {
      messageId: '0102018c-ses-id',
      timestamp: new Date().toISOString(),
      headers: [{ name: 'Message-ID', value: smtpMessageId }],
    };
    const bounce = snsNotification({
      notificationType: 'Bounce',
      mail,
      bounce: {
        bounceType: 'Permanent',
        feedbackId: 'fb-bounce-1',
        timestamp: new Date().toISOString(),
        bouncedRecipients: [
          {
            emailAddress: 'p-ses@example.com',
            status: '5.1.1',
            diagnosticCode: 'smtp; 550 5.1.1 user unknown',
          },
        ],
      },
    });

    const response = await postSes(bounce);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: 1, applied: 1, duplicates: 0, ignored: 0 });
    const bounced = await delivery.tap.next<DeliveryBouncedPayload>(
      SUBJECTS.delivery.bounced,
      (m) => m.envelope.data.sendId === sendId,
    );
    expect(bounced.envelope.data).toMatchObject({ kind: 'hard', diagnostic: 'smtp; 550 5.1.1 user unknown' });
    expect(await suppression('p-ses@example.com')).toMatchObject({
      reason: 'hard_bounce',
      source: 'esp:ses',
    });
    expect(await (await postSes(bounce)).json()).toMatchObject({ applied: 0, duplicates: 1 });

    const complaint = snsNotification({
      notificationType: 'Complaint',
      mail: { ...mail, headers: [] },
      complaint: {
        feedbackId: 'fb-complaint-1',
        timestamp: new Date().toISOString(),
        complainedRecipients: [{ emailAddress: 'p-ses-complains@example.com' }],
      },
    });
    expect((await postSes(complaint)).status).toBe(200);
    expect(await suppression('p-ses-complains@example.com')).toMatchObject({ reason: 'complaint' });

    // Authentic, but nothing we can read (the SNS console's test message): acknowledged, ignored.
    const consoleTest = snsNotification({});
    expect(await (await postSes({ ...consoleTest })).json()).toMatchObject({ applied: 0, ignored: 1 });
    const text = snsNotification({}, { Message: 'Hello from the SNS console' });
    expect(await (await postSes(text)).json()).toMatchObject({ applied: 0, ignored: 1 });

    // Not believed: another topic (403), a forged or altered signature, a certificate not on AWS's SNS hosts (401).
    const forged = snsNotification({
      notificationType: 'Complaint',
      mail,
      complaint: {
        feedbackId: 'fb-forged',
        timestamp: new Date().toISOString(),
        complainedRecipients: [{ emailAddress: 'p-ses-forged@example.com' }],
      },
    });
    expect((await postSes({ ...forged, TopicArn: 'arn:aws:sns:eu-west-1:999999999999:other' })).status).toBe(
      403,
    );
    expect(
      (await postSes({ ...forged, Message: forged.Message.replace('fb-forged', 'fb-altered') })).status,
    ).toBe(401);
    expect((await postSes({ ...forged, SigningCertURL: 'https://example.com/cert.pem' })).status).toBe(401);
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const { Signature: _signature, ...unsignedMessage } = forged;
    const wrongKey = sign('sha256', Buffer.from(snsStringToSign({ ...forged })), stranger).toString('base64');
    expect((await postSes({ ...unsignedMessage, Signature: wrongKey })).status).toBe(401);
    expect(await suppression('p-ses-forged@example.com')).toBeUndefined();
  });
});
