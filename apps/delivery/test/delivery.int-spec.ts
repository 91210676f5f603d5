import { type DeadLetterPayload, type DeliverySentPayload, type Envelope, SUBJECTS } from '@mesh/contracts';
import { consumerIsIdle, publishCopy, subjectCounts, waitFor } from '@mesh/testing';
import {
  campaignSpec,
  type DeliveryUnderTest,
  renderedEmail,
  RENDERED_CONSUMER,
  sendKey,
  startDeliveryUnderTest,
} from './delivery-fixture.js';

const CART_REMINDER = campaignSpec('cart-reminder', {
  name: 'You left something in your cart',
  recommendation: { strategy: 'popular', limit: 3 },
});

/** The cart reminder for one profile, as the renderer publishes it. */
const cartReminder = (profileId: string, to: string) =>
  renderedEmail(profileId, CART_REMINDER, {
    triggerKey: 'cart:cart-1',
    to,
    subject: 'You left Laptop 13 in your cart',
    html: '<p>Hello, you left <strong>Laptop 13</strong> in your cart.</p>',
    text: 'Hello, you left Laptop 13 in your cart.',
  });

describe('delivery: every rendered email is sent at most once', () => {
  let delivery: DeliveryUnderTest;

  beforeAll(async () => {
    delivery = await startDeliveryUnderTest({ env: { DELIVERY_RECONCILE_INTERVAL_MS: '3600000' } });
  }, 60_000);
  afterAll(() => delivery?.close());

  const sentAnnouncements = (input: Envelope) =>
    delivery.tap.causedBy(SUBJECTS.delivery.sent, input) as { envelope: Envelope<DeliverySentPayload> }[];
  const consumerSettled = () =>
    delivery.settled('delivery to settle every rendered email', [RENDERED_CONSUMER]);
  const stored = async (subject: string) => (await subjectCounts(delivery.natsUrl, 'DELIVERY'))[subject] ?? 0;

  it('sends one email with the ledger key as Message-ID and announces it once, even when redelivered', async () => {
    const rendered = cartReminder('profile-ada', 'ada@example.com');
    const key = sendKey(rendered);
    const before = await stored(SUBJECTS.delivery.sent);

    await delivery.publishRendered(rendered);
    const email = await delivery.sink.waitForEmail((received) => received.to.includes('ada@example.com'));
    const sent = await delivery.tap.next<DeliverySentPayload>(
      SUBJECTS.delivery.sent,
      (message) => message.envelope.causationId === rendered.id,
    );
    await consumerSettled();
    await publishCopy(delivery.natsUrl, SUBJECTS.renderer.rendered, rendered);
    await consumerSettled();

    expect(email).toMatchObject({
      messageId: `<${key}@personalization-mesh>`,
      subject: 'You left Laptop 13 in your cart',
      text: rendered.data.text,
    });
    // The rendered HTML, with the open pixel added.
    expect(email.html.startsWith(rendered.data.html)).toBe(true);
    expect(delivery.emailsTo('ada@example.com')).toHaveLength(1);
    const entry = await delivery.ledger(key);
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
    const first = cartReminder('profile-dee', 'dee@example.com');
    const second = cartReminder('profile-dee', 'dee@example.com');
    const later = cartReminder('profile-dee', 'dee@example.com');
    const outcomes = (subject: string) =>
      delivery.tap
        .messages(subject)
        .filter((message) => [first.id, second.id, later.id].includes(message.envelope.causationId));

    await Promise.all([delivery.publishRendered(first), delivery.publishRendered(second)]);
    await consumerSettled();
    await delivery.publishRendered(later);
    await consumerSettled();

    expect(delivery.emailsTo('dee@example.com')).toHaveLength(1);
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
    const rendered = cartReminder('profile-bob', 'bob@example.com');
    const key = sendKey(rendered);
    const before = await stored(SUBJECTS.delivery.sent);
    await delivery.sink.stop();

    try {
      await delivery.publishRendered(rendered);
      const failedAttempt = await waitFor('the failed attempt in the ledger', async () => {
        const entry = await delivery.ledger(key);
        return entry?.status === 'retryable' && entry;
      });
      expect(failedAttempt.attempts).toBe(1);
      expect(failedAttempt.error).toContain('ECONNREFUSED');
      // Nak-ed, not acked: the consumer still holds it for redelivery.
      expect(
        await consumerIsIdle(delivery.natsUrl, RENDERED_CONSUMER.stream, RENDERED_CONSUMER.durable),
      ).toBe(false);
    } finally {
      await delivery.sink.start({ port: delivery.smtpPort });
    }

    const email = await delivery.sink.waitForEmail((received) => received.to.includes('bob@example.com'));
    await consumerSettled();
    expect(email.messageId).toBe(`<${key}@personalization-mesh>`);
    expect(delivery.emailsTo('bob@example.com')).toHaveLength(1);
    expect(await delivery.ledger(key)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(sentAnnouncements(rendered)).toHaveLength(1);
    expect(await stored(SUBJECTS.delivery.sent)).toBe(before + 1);
  });

  it('never re-sends an email whose earlier attempt may have reached SMTP: it dead-letters it instead', async () => {
    const rendered = cartReminder('profile-cy', 'cy@example.com');
    const key = sendKey(rendered);
    // What a crash between the ledger claim and the SMTP call leaves behind.
    const claimedAt = new Date(Date.now() - 60 * 60_000);
    await delivery.db.collection('sends').insertOne({
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

    await delivery.publishRendered(rendered);
    const dead = await delivery.tap.next<DeadLetterPayload>(
      SUBJECTS.dlq('delivery'),
      (message) => message.envelope.causationId === rendered.id,
    );
    await consumerSettled();

    expect(dead.envelope.data).toMatchObject({
      service: 'delivery',
      consumer: RENDERED_CONSUMER.durable,
      subject: SUBJECTS.renderer.rendered,
      deliveryCount: 1,
      error: { code: 'SEND_OUTCOME_UNKNOWN', permanent: true },
    });
    expect(JSON.parse(dead.envelope.data.body)).toMatchObject({ id: rendered.id });
    expect(delivery.emailsTo('cy@example.com')).toEqual([]);
    expect(await delivery.ledger(key)).toMatchObject({ status: 'sending', attempts: 1 });
    expect(sentAnnouncements(rendered)).toEqual([]);
  });
});
