import {
  type CampaignSpecDto,
  type DeadLetterPayload,
  type DeliverySentPayload,
  deterministicId,
  type Envelope,
  originEnvelope,
  type RenderedEmailPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { type MessagePublisher } from '@mesh/messaging';
import {
  consumerIsIdle,
  freePort,
  type MessageTap,
  publishCopy,
  type ServiceUnderTest,
  SmtpSink,
  startServiceUnderTest,
  subjectCounts,
  waitFor,
} from '@mesh/testing';
import { type Db } from 'mongodb';
import { deliverySpec } from '../src/delivery.app.js';

const CONSUMER = { stream: 'RENDERER', durable: 'delivery__renderer_rendered' };

const CART_REMINDER: CampaignSpecDto = {
  campaignId: 'cart-reminder',
  name: 'You left something in your cart',
  templateId: 'cart-reminder',
  recommendation: { strategy: 'popular', limit: 3 },
  sendPolicy: { maxPerDay: 0, transactional: false },
};

interface SendDocument {
  _id: string;
  status: string;
  smtpMessageId: string;
  attempts: number;
  error?: string;
  sentAt?: Date;
}

function renderedEmail(profileId: string, to: string): Envelope<RenderedEmailPayload> {
  return originEnvelope({
    type: 'email.rendered',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    profileId,
    data: {
      campaign: CART_REMINDER,
      triggerKey: 'cart:cart-1',
      template: { id: 'cart-reminder', version: 1 },
      to,
      subject: 'You left Laptop 13 in your cart',
      html: '<p>Hello, you left <strong>Laptop 13</strong> in your cart.</p>',
      text: 'Hello, you left Laptop 13 in your cart.',
    },
  });
}

/** The ledger key: one email per (campaign, profile, trigger key); also the email's Message-ID. */
const sendKey = (email: Envelope<RenderedEmailPayload>) =>
  deterministicId('send', email.data.campaign.campaignId, email.profileId!, email.data.triggerKey);

describe('delivery: every rendered email is sent at most once', () => {
  let under: ServiceUnderTest;
  let natsUrl: string;
  let sink: SmtpSink;
  let smtpPort: number;
  let publisher: MessagePublisher;
  let tap: MessageTap;
  let db: Db;

  beforeAll(async () => {
    smtpPort = await freePort();
    sink = new SmtpSink();
    await sink.start({ port: smtpPort });
    under = await startServiceUnderTest({
      name: 'delivery',
      spec: deliverySpec,
      env: { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, DELIVERY_RECONCILE_INTERVAL_MS: '3600000' },
      tap: '>',
      redis: true,
    });
    ({ natsUrl, publisher, tap, db } = under);
  }, 60_000);
  afterAll(async () => {
    await under?.close();
    await sink?.stop();
  });

  const emailsTo = (address: string) => sink.messages().filter((email) => email.to.includes(address));
  const ledger = (key: string) => db.collection<SendDocument>('sends').findOne({ _id: key });
  const sentAnnouncements = (input: Envelope) =>
    tap.causedBy(SUBJECTS.delivery.sent, input) as { envelope: Envelope<DeliverySentPayload> }[];
  const consumerSettled = () =>
    waitFor('delivery to settle every rendered email', () =>
      consumerIsIdle(natsUrl, CONSUMER.stream, CONSUMER.durable),
    );
  const stored = async (subject: string) => (await subjectCounts(natsUrl, 'DELIVERY'))[subject] ?? 0;

  it('sends one email with the ledger key as Message-ID and announces it once, even when redelivered', async () => {
    const rendered = renderedEmail('profile-ada', 'ada@example.com');
    const key = sendKey(rendered);
    const before = await stored(SUBJECTS.delivery.sent);

    await publisher.publish(SUBJECTS.renderer.rendered, rendered);
    const email = await sink.waitForEmail((received) => received.to.includes('ada@example.com'));
    const sent = await tap.next<DeliverySentPayload>(
      SUBJECTS.delivery.sent,
      (message) => message.envelope.causationId === rendered.id,
    );
    await consumerSettled();
    await publishCopy(natsUrl, SUBJECTS.renderer.rendered, rendered);
    await consumerSettled();

    expect(email).toMatchObject({
      messageId: `<${key}@personalization-mesh>`,
      subject: 'You left Laptop 13 in your cart',
      text: rendered.data.text,
    });
    // The rendered HTML, with the open pixel added.
    expect(email.html.startsWith(rendered.data.html)).toBe(true);
    expect(emailsTo('ada@example.com')).toHaveLength(1);
    const entry = await ledger(key);
    expect(entry).toMatchObject({
      status: 'sent',
      attempts: 1,
      smtpMessageId: `<${key}@personalization-mesh>`,
    });
    expect(entry!.sentAt).toBeInstanceOf(Date);
    expect(sent.envelope.profileId).toBe('profile-ada');
    const { sentAt, ...announced } = sent.envelope.data;
    expect(announced).toEqual({
      campaignId: 'cart-reminder',
      triggerKey: 'cart:cart-1',
      to: 'ada@example.com',
      smtpMessageId: `<${key}@personalization-mesh>`,
      templateId: 'cart-reminder',
      sendId: key,
    });
    expect(Date.parse(sentAt)).not.toBeNaN();
    // The copy was handled (announced again under the same id, not mailed); the stream kept one.
    const announcements = sentAnnouncements(rendered);
    expect(announcements).toHaveLength(2);
    expect(announcements[1]!.envelope.id).toBe(sent.envelope.id);
    expect(await stored(SUBJECTS.delivery.sent)).toBe(before + 1);
  });

  it('sends one email for two different rendered emails of the same cart, and reports the other as a duplicate', async () => {
    // e.g. two items added to one cart in quick succession: two send intents, one send key.
    const first = renderedEmail('profile-dee', 'dee@example.com');
    const second = renderedEmail('profile-dee', 'dee@example.com');
    const later = renderedEmail('profile-dee', 'dee@example.com');
    const outcomes = (subject: string) =>
      tap
        .messages(subject)
        .filter((message) => [first.id, second.id, later.id].includes(message.envelope.causationId));

    await Promise.all([
      publisher.publish(SUBJECTS.renderer.rendered, first),
      publisher.publish(SUBJECTS.renderer.rendered, second),
    ]);
    await consumerSettled();
    await publisher.publish(SUBJECTS.renderer.rendered, later);
    await consumerSettled();

    expect(emailsTo('dee@example.com')).toHaveLength(1);
    expect(outcomes(SUBJECTS.delivery.sent)).toHaveLength(1);
    const skipped = outcomes(SUBJECTS.delivery.skipped);
    const duplicate = {
      campaignId: 'cart-reminder',
      triggerKey: 'cart:cart-1',
      reason: 'duplicate',
      sendId: sendKey(first),
    };
    expect(skipped.map((message) => message.envelope.data)).toEqual([duplicate, duplicate]);
    expect(skipped.map((message) => message.envelope.causationId)).toContain(later.id);
    expect(outcomes(SUBJECTS.dlq('delivery'))).toEqual([]);
  });

  it('keeps the send retryable while SMTP is down and sends it exactly once when SMTP is back', async () => {
    const rendered = renderedEmail('profile-bob', 'bob@example.com');
    const key = sendKey(rendered);
    const before = await stored(SUBJECTS.delivery.sent);
    await sink.stop();

    try {
      await publisher.publish(SUBJECTS.renderer.rendered, rendered);
      const failedAttempt = await waitFor('the failed attempt in the ledger', async () => {
        const entry = await ledger(key);
        return entry?.status === 'retryable' && entry;
      });
      expect(failedAttempt.attempts).toBe(1);
      expect(failedAttempt.error).toContain('ECONNREFUSED');
      // Nak-ed, not acked: the consumer still holds it for redelivery.
      expect(await consumerIsIdle(natsUrl, CONSUMER.stream, CONSUMER.durable)).toBe(false);
    } finally {
      await sink.start({ port: smtpPort });
    }

    const email = await sink.waitForEmail((received) => received.to.includes('bob@example.com'));
    await consumerSettled();
    expect(email.messageId).toBe(`<${key}@personalization-mesh>`);
    expect(emailsTo('bob@example.com')).toHaveLength(1);
    expect(await ledger(key)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(sentAnnouncements(rendered)).toHaveLength(1);
    expect(await stored(SUBJECTS.delivery.sent)).toBe(before + 1);
  });

  it('never re-sends an email whose earlier attempt may have reached SMTP: it dead-letters it instead', async () => {
    const rendered = renderedEmail('profile-cy', 'cy@example.com');
    const key = sendKey(rendered);
    // What a crash between the ledger claim and the SMTP call leaves behind.
    const claimedAt = new Date(Date.now() - 60 * 60_000);
    await db.collection('sends').insertOne({
      _id: key as never,
      campaignId: 'cart-reminder',
      profileId: 'profile-cy',
      triggerKey: 'cart:cart-1',
      to: 'cy@example.com',
      status: 'sending',
      smtpMessageId: `<${key}@personalization-mesh>`,
      attempts: 1,
      claimedBy: rendered.id,
      createdAt: claimedAt,
      updatedAt: claimedAt,
      schemaVersion: 1,
    });

    await publisher.publish(SUBJECTS.renderer.rendered, rendered);
    const dead = await tap.next<DeadLetterPayload>(
      SUBJECTS.dlq('delivery'),
      (message) => message.envelope.causationId === rendered.id,
    );
    await consumerSettled();

    expect(dead.envelope.data).toMatchObject({
      service: 'delivery',
      consumer: CONSUMER.durable,
      subject: SUBJECTS.renderer.rendered,
      deliveryCount: 1,
      error: { code: 'SEND_OUTCOME_UNKNOWN', permanent: true },
    });
    expect(JSON.parse(dead.envelope.data.body)).toMatchObject({ id: rendered.id });
    expect(emailsTo('cy@example.com')).toEqual([]);
    expect(await ledger(key)).toMatchObject({ status: 'sending', attempts: 1 });
    expect(sentAnnouncements(rendered)).toEqual([]);
  });
});
