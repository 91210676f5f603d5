import { generateKeyPairSync } from 'node:crypto';
import {
  type CampaignSpecDto,
  type DeliveryBouncedPayload,
  type DeliveryDeferredPayload,
  type DeliverySkippedPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { waitFor } from '@mesh/testing';
import { dkimVerify } from 'mailauth';
import {
  ADMIN,
  campaignSpec,
  type DeliveryUnderTest,
  PUBLIC_URL,
  renderedEmail,
  sendKey,
  startDeliveryUnderTest,
} from './delivery-fixture.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const DKIM_RECORD = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;

const NEWSLETTER = campaignSpec('spring-sale', {
  name: 'Spring sale',
  variant: 'B',
  from: 'Shop News <news@shop.example>',
  replyTo: 'help@shop.example',
});
const RECEIPT: CampaignSpecDto = {
  ...NEWSLETTER,
  campaignId: 'receipt',
  variant: undefined,
  sendPolicy: { maxPerDay: 0, transactional: true },
};

const rendered = (to: string, spec = NEWSLETTER, triggerKey = 't-1', profileId = `profile-${to}`) =>
  renderedEmail(profileId, spec, {
    triggerKey,
    template: { id: spec.templateId, version: 3 },
    to,
    subject: 'Spring sale',
    html: '<html><body><p>See <a href="https://shop.example/sale?c=spring&amp;v=b">the sale</a></p></body></html>',
    text: 'See the sale: https://shop.example/sale?c=spring&v=b.',
  });

/** A campaign of one email a day per profile. */
const capped = (campaignId: string): CampaignSpecDto => ({
  ...NEWSLETTER,
  campaignId,
  sendPolicy: { maxPerDay: 1, transactional: false },
});

describe('delivery over SMTP', () => {
  let delivery: DeliveryUnderTest;

  beforeAll(async () => {
    delivery = await startDeliveryUnderTest({
      env: {
        MESH_PUBLIC_URL: PUBLIC_URL,
        DKIM_DOMAIN: 'shop.example',
        DKIM_SELECTOR: 'mesh',
        DKIM_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        DELIVERY_SMTP_RETRY_BASE_SECONDS: '1',
        DELIVERY_SMTP_MAX_ATTEMPTS: '3',
        DELIVERY_DEFERRAL_POLL_MS: '100',
        DELIVERY_DOMAIN_RATE_PER_SECOND: '2',
      },
    });
  }, 60_000);
  afterAll(() => delivery?.close());
  afterEach(() => delivery.sink.respondToRecipients(undefined));

  it('sends with the campaign’s sender, its Message-ID, RFC 8058 headers and a DKIM signature that verifies', async () => {
    const input = rendered('ada@inbox.example');
    await delivery.publishRendered(input);
    const email = await delivery.sink.waitForEmail((received) => received.to.includes('ada@inbox.example'));
    const key = sendKey(input);

    expect(email.headers.from).toBe('Shop News <news@shop.example>');
    expect(email.headers['reply-to']).toBe('help@shop.example');
    expect(email.messageId).toBe(`<${key}@personalization-mesh>`);
    const listUnsubscribe = email.headers['list-unsubscribe']!;
    expect(listUnsubscribe).toMatch(
      /^<https:\/\/mesh\.shop\.example\/u\/[\w-]+\.[\w-]+>, <mailto:unsubscribe@shop\.example\?subject=unsubscribe%20[\w-]+>$/,
    );
    expect(email.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');

    const verified = await dkimVerify(email.raw!, {
      resolver: (name: string, type: string) =>
        name === 'mesh._domainkey.shop.example' && type === 'TXT'
          ? Promise.resolve([[DKIM_RECORD]])
          : Promise.reject(Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' })),
    });
    expect(verified.results).toHaveLength(1);
    const [signature] = verified.results;
    expect(signature!.status.result).toBe('pass');
    expect(signature!.signingDomain).toBe('shop.example');
    // RFC 8058: the signature covers both unsubscribe headers.
    const signed = /\bh=([^;]+)/.exec(email.headers['dkim-signature']!)![1]!.toLowerCase().replace(/\s/g, '');
    expect(signed.split(':')).toEqual(expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post']));

    // Links go through the tracker; the original target is only inside the signed token.
    expect(email.html).toMatch(/<a href="https:\/\/mesh\.shop\.example\/t\/c\/[\w-]+\.[\w-]+">the sale<\/a>/);
    expect(email.html).toMatch(/<img src="https:\/\/mesh\.shop\.example\/t\/o\/[\w-]+\.[\w-]+\.gif"/);
    expect(email.text).toMatch(/^See the sale: https:\/\/mesh\.shop\.example\/t\/c\/[\w-]+\.[\w-]+\.$/);

    const sent = await delivery.tap.nextCausedBy(SUBJECTS.delivery.sent, input);
    expect(sent.envelope.data).toMatchObject({ variant: 'B', sendId: key });
  });

  it('sends transactional email without unsubscribe headers', async () => {
    await delivery.publishRendered(rendered('bea@inbox.example', RECEIPT));
    const email = await delivery.sink.waitForEmail((received) => received.to.includes('bea@inbox.example'));
    expect(email.headers['list-unsubscribe']).toBeUndefined();
    expect(email.headers['dkim-signature']).toBeDefined();
  });

  it('retries a 4xx answer later with a growing delay and sends once accepted', async () => {
    let refusals = 0;
    delivery.sink.respondToRecipients((address) =>
      address === 'grey@greylist.example' && refusals++ < 2
        ? { code: 451, message: '4.7.1 Greylisted, try again later' }
        : undefined,
    );
    const input = rendered('grey@greylist.example');
    await delivery.publishRendered(input);

    await delivery.sink.waitForEmail((received) => received.to.includes('grey@greylist.example'), 30_000);
    await delivery.tap.nextCausedBy(SUBJECTS.delivery.sent, input);
    const deferrals = delivery.tap
      .causedBy(SUBJECTS.delivery.deferred, input)
      .map((message) => message.envelope.data as DeliveryDeferredPayload);
    expect(deferrals.map((deferral) => deferral.reason)).toEqual(['smtp_retry', 'smtp_retry']);
    // 1 s, then 2 s after the second refusal.
    const [first, second] = deferrals.map((deferral) => Date.parse(deferral.until));
    expect(second! - first!).toBeGreaterThanOrEqual(1_500);
    expect(delivery.emailsTo('grey@greylist.example')).toHaveLength(1);
    expect(await delivery.ledger(sendKey(input))).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('counts a send still refused with 4xx after the last attempt as a soft bounce, which gives its cap slot back', async () => {
    delivery.sink.respondToRecipients((address) =>
      address === 'full@busy.example' ? { code: 452, message: '4.2.2 Mailbox full' } : undefined,
    );
    const input = rendered('full@busy.example', capped('busy-a'), 't-1', 'p-busy');
    await delivery.publishRendered(input);

    const bounce = await delivery.tap.nextCausedBy<DeliveryBouncedPayload>(
      SUBJECTS.delivery.bounced,
      input,
      30_000,
    );
    expect(bounce.envelope.data).toMatchObject({ kind: 'soft', to: 'full@busy.example' });
    expect(bounce.envelope.data.diagnostic).toContain('Mailbox full');
    expect(await delivery.ledger(sendKey(input))).toMatchObject({ status: 'failed', attempts: 3 });
    expect(delivery.emailsTo('full@busy.example')).toEqual([]);

    // The profile's one email of the day never arrived: another campaign (to its other address) may send.
    const next = rendered('second@inbox.example', capped('busy-b'), 't-1', 'p-busy');
    await delivery.publishRendered(next);
    await delivery.tap.nextCausedBy(SUBJECTS.delivery.sent, next);
    expect(delivery.emailsTo('second@inbox.example')).toHaveLength(1);
  });

  it('treats a 5xx answer as a hard bounce and suppresses the address', async () => {
    delivery.sink.respondToRecipients((address) =>
      address === 'gone@old.example' ? { code: 550, message: '5.1.1 No such user' } : undefined,
    );
    const input = rendered('gone@old.example');
    await delivery.publishRendered(input);
    const bounce = await delivery.tap.nextCausedBy<DeliveryBouncedPayload>(SUBJECTS.delivery.bounced, input);
    expect(bounce.envelope.data).toMatchObject({ kind: 'hard', to: 'gone@old.example' });
    expect(await delivery.ledger(sendKey(input))).toMatchObject({ status: 'bounced', attempts: 1 });

    delivery.sink.respondToRecipients(undefined);
    const next = rendered('gone@old.example', NEWSLETTER, 't-2');
    await waitFor('the address to be suppressed', async () => {
      const response = await fetch(`${delivery.service.url}/admin/suppressions/gone@old.example`, {
        headers: ADMIN,
      });
      return response.status === 200;
    });
    await delivery.publishRendered(next);
    const skipped = await delivery.tap.nextCausedBy<DeliverySkippedPayload>(SUBJECTS.delivery.skipped, next);
    expect(skipped.envelope.data).toMatchObject({ reason: 'suppressed', detail: 'hard_bounce' });
    expect(delivery.emailsTo('gone@old.example')).toEqual([]);
  });

  it('a hard bounce gives the send’s cap slot back; a delivered email keeps it', async () => {
    delivery.sink.respondToRecipients((address) =>
      address === 'old@moved.example' ? { code: 550, message: '5.1.1 No such user' } : undefined,
    );
    const bounced = rendered('old@moved.example', capped('moved-a'), 't-1', 'p-moved');
    await delivery.publishRendered(bounced);
    await delivery.tap.nextCausedBy(SUBJECTS.delivery.bounced, bounced);

    // The cap is one a day: the bounced email did not use it, the next one does.
    const delivered = rendered('new@moved.example', capped('moved-b'), 't-1', 'p-moved');
    await delivery.publishRendered(delivered);
    await delivery.tap.nextCausedBy(SUBJECTS.delivery.sent, delivered);
    const third = rendered('new@moved.example', capped('moved-c'), 't-1', 'p-moved');
    await delivery.publishRendered(third);
    const skipped = await delivery.tap.nextCausedBy<DeliverySkippedPayload>(SUBJECTS.delivery.skipped, third);
    expect(skipped.envelope.data).toMatchObject({ reason: 'frequency_capped', detail: 'daily_cap' });
    expect(delivery.emailsTo('new@moved.example')).toHaveLength(1);
  });

  it('throttles sends to one recipient domain (2 a second here)', async () => {
    const inputs = Array.from({ length: 6 }, (_, i) => rendered(`user${i}@throttled.example`));
    await Promise.all(inputs.map((input) => delivery.publishRendered(input)));
    const throttled = () =>
      delivery.sink
        .messages()
        .filter((email) => email.to.some((address) => address.endsWith('@throttled.example')));
    await waitFor('six emails', () => throttled().length === 6, 30_000);
    const times = throttled()
      .map((email) => Date.parse(email.receivedAt))
      .sort((a, b) => a - b);
    // Six turns at two a second are granted in at least three different seconds, so the grants span
    // more than one second; receptions add SMTP latency, which on a loaded machine differs by hundreds
    // of milliseconds between emails, so only half of that span is asserted (unthrottled: ~10 ms).
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(500);
  });
});
