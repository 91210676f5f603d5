import {
  type CampaignSpecDto,
  type DeliveryDeferredPayload,
  type DeliverySkippedPayload,
  deterministicId,
  type Envelope,
  originEnvelope,
  SUBJECTS,
} from '@mesh/contracts';
import { publishCopy, subjectCounts, waitFor } from '@mesh/testing';
import { Clock } from '../src/clock.js';
import { DeferralsRepository, PRIORITY_HOLD } from '../src/deferrals/deferrals.repository.js';
import {
  ADMIN,
  campaignSpec,
  type DeliveryUnderTest,
  renderedEmail,
  RENDERED_CONSUMER,
  startDeliveryUnderTest,
} from './delivery-fixture.js';

const ADMIN_JSON = { ...ADMIN, 'content-type': 'application/json' };
/** Everything delivery consumes that the decisions below depend on. */
const DECISION_CONSUMERS = [
  RENDERED_CONSUMER,
  { stream: 'IDENTITY', durable: 'delivery__identity_resolved_consent' },
  { stream: 'IDENTITY', durable: 'delivery__identity_resolved_identify' },
  { stream: 'ENRICHMENT', durable: 'delivery__enrichment_profile_updated' },
];

const rendered = (
  profileId: string,
  spec: CampaignSpecDto,
  options: { triggerKey?: string; timezone?: string } = {},
) =>
  renderedEmail(profileId, spec, {
    triggerKey: options.triggerKey ?? 'trigger-1',
    ...(options.timezone ? { recipient: { timezone: options.timezone } } : {}),
  });

/** A fixed-offset zone where it is 23:xx right now: inside the default quiet hours (21:00–08:00). */
function zoneAtNight(now = new Date()): string {
  const offset = ((23 - now.getUTCHours() + 12 + 24) % 24) - 12;
  return offset >= 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}

describe('delivery: the decision point', () => {
  let delivery: DeliveryUnderTest;
  let clock: Clock;

  beforeAll(async () => {
    delivery = await startDeliveryUnderTest({
      env: {
        DELIVERY_CAP_PER_DAY: '2',
        DELIVERY_CAP_PER_CAMPAIGN_WEEK: '1',
        DELIVERY_DEFERRAL_POLL_MS: '100',
        DELIVERY_PRIORITY_WINDOW_MS: '2500',
      },
    });
    clock = delivery.service.app.get(Clock);
  }, 60_000);
  afterAll(() => delivery?.close());
  // Moves the service's clock (the time its decisions are made at); reset after each test.
  const travelTo = (at: Date) => {
    clock.now = () => new Date(at);
  };
  afterEach(() => {
    clock.now = () => new Date();
  });

  const emailsTo = (profileId: string) => delivery.emailsTo(`${profileId}@example.com`);
  const idle = () => delivery.settled('delivery to settle everything', DECISION_CONSUMERS);
  const skipOf = (input: Envelope) =>
    delivery.tap
      .nextCausedBy<DeliverySkippedPayload>(SUBJECTS.delivery.skipped, input)
      .then((m) => m.envelope.data);
  const sentOf = (input: Envelope) => delivery.tap.nextCausedBy(SUBJECTS.delivery.sent, input);
  const heldSends = (profileId: string) =>
    delivery.db.collection('deferred_sends').countDocuments({ profileId });

  const consentEvent = (profileId: string, status: 'opted_in' | 'opted_out', at: string) =>
    originEnvelope({
      type: 'consent',
      source: 'test-source',
      occurredAt: at,
      profileId,
      data: {
        messageId: `consent-${profileId}-${at}`,
        userId: profileId,
        consent: { channel: 'email' as const, status, source: 'preference-center', at },
        identifiers: [{ type: 'user_id' as const, value: profileId }],
      },
    });

  it('skips a profile that opted out, and sends again once a newer statement opts it back in', async () => {
    await delivery.publisher.publish(
      SUBJECTS.identity.resolved.consent,
      consentEvent('p-consent', 'opted_out', '2026-01-02T00:00:00.000Z'),
    );
    await idle();
    const first = rendered('p-consent', campaignSpec('newsletter'), { triggerKey: 'issue-1' });
    await delivery.publishRendered(first);
    expect(await skipOf(first)).toMatchObject({ reason: 'no_consent', detail: 'opted_out' });

    // An older statement arriving late changes nothing; a newer one does.
    await delivery.publisher.publish(
      SUBJECTS.identity.resolved.consent,
      consentEvent('p-consent', 'opted_in', '2026-01-01T00:00:00.000Z'),
    );
    await idle();
    const second = rendered('p-consent', campaignSpec('newsletter'), { triggerKey: 'issue-2' });
    await delivery.publishRendered(second);
    expect(await skipOf(second)).toMatchObject({ reason: 'no_consent' });

    await delivery.publisher.publish(
      SUBJECTS.identity.resolved.consent,
      consentEvent('p-consent', 'opted_in', '2026-01-03T00:00:00.000Z'),
    );
    await idle();
    const third = rendered('p-consent', campaignSpec('newsletter'), { triggerKey: 'issue-3' });
    await delivery.publishRendered(third);
    await sentOf(third);
    expect(emailsTo('p-consent').map((email) => email.subject)).toEqual(['newsletter for p-consent']);
  });

  it('reads consent from identify traits and from the profile enrichment computed', async () => {
    await delivery.publisher.publish(
      SUBJECTS.identity.resolved.identify,
      originEnvelope({
        type: 'identify',
        source: 'test-source',
        occurredAt: new Date().toISOString(),
        profileId: 'p-traits',
        data: {
          messageId: 'identify-traits',
          userId: 'p-traits',
          traits: {
            email: 'p-traits@example.com',
            consent: { channel: 'email', status: 'opted_out', source: 'signup', at: '2026-02-01T00:00:00Z' },
          },
          identifiers: [{ type: 'user_id', value: 'p-traits' }],
        },
      }),
    );
    await delivery.publisher.publish(
      SUBJECTS.enrichment.profileUpdated,
      originEnvelope({
        type: 'profile.updated',
        source: 'test-source',
        occurredAt: new Date().toISOString(),
        profileId: 'p-computed',
        data: {
          profile: {
            profileId: 'p-computed',
            traits: {},
            computed: {
              consent: { email: { status: 'opted_out', source: 'crm', at: '2026-02-01T00:00:00Z' } },
            },
            version: 3,
          },
          changed: ['consent'],
        },
      }),
    );
    await idle();
    const viaTraits = rendered('p-traits', campaignSpec('newsletter'));
    const viaComputed = rendered('p-computed', campaignSpec('newsletter'));
    await delivery.publishRendered(viaTraits);
    await delivery.publishRendered(viaComputed);

    expect(await skipOf(viaTraits)).toMatchObject({ reason: 'no_consent', detail: 'opted_out' });
    expect(await skipOf(viaComputed)).toMatchObject({ reason: 'no_consent', detail: 'opted_out' });
    expect([...emailsTo('p-traits'), ...emailsTo('p-computed')]).toEqual([]);
  });

  it('skips suppressed addresses; an unsubscribe does not stop transactional email; a redelivered skip is announced once', async () => {
    for (const [profileId, reason] of [
      ['p-bounced', 'hard_bounce'],
      ['p-manual', undefined],
      ['p-unsub', 'unsubscribe'],
    ] as const) {
      const response = await fetch(`${delivery.service.url}/admin/suppressions`, {
        method: 'PUT',
        headers: ADMIN_JSON,
        body: JSON.stringify({ email: `${profileId}@example.com`, ...(reason ? { reason } : {}) }),
      });
      expect(response.status).toBe(200);
    }
    const invalid = await fetch(`${delivery.service.url}/admin/suppressions`, {
      method: 'PUT',
      headers: ADMIN_JSON,
      body: JSON.stringify({ email: 'not-an-address' }),
    });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(await invalid.json())).toContain('email');

    const bounced = rendered('p-bounced', campaignSpec('newsletter'));
    const manual = rendered('p-manual', campaignSpec('newsletter'));
    const unsubMarketing = rendered('p-unsub', campaignSpec('newsletter'));
    const unsubReceipt = rendered(
      'p-unsub',
      campaignSpec('receipt', { sendPolicy: { maxPerDay: 0, transactional: true } }),
    );
    for (const input of [bounced, manual, unsubMarketing, unsubReceipt])
      await delivery.publishRendered(input);

    const bouncedSkip = await skipOf(bounced);
    expect(bouncedSkip).toMatchObject({ reason: 'suppressed', detail: 'hard_bounce' });
    expect(bouncedSkip.sendId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await skipOf(manual)).toMatchObject({ reason: 'suppressed', detail: 'manual' });
    expect(await skipOf(unsubMarketing)).toMatchObject({ reason: 'suppressed', detail: 'unsubscribe' });
    await sentOf(unsubReceipt);
    expect(emailsTo('p-unsub').map((email) => email.subject)).toEqual(['receipt for p-unsub']);

    const before = (await subjectCounts(delivery.natsUrl, 'DELIVERY'))[SUBJECTS.delivery.skipped] ?? 0;
    await publishCopy(delivery.natsUrl, SUBJECTS.renderer.rendered, bounced);
    await idle();
    expect(delivery.tap.causedBy(SUBJECTS.delivery.skipped, bounced)).toHaveLength(2);
    expect((await subjectCounts(delivery.natsUrl, 'DELIVERY'))[SUBJECTS.delivery.skipped]).toBe(before);
    expect(emailsTo('p-bounced')).toEqual([]);
  });

  it('caps emails per day across campaigns and per campaign per week; transactional email is not capped', async () => {
    const welcome = rendered('p-capped', campaignSpec('welcome'));
    const welcomeAgain = rendered('p-capped', campaignSpec('welcome'), { triggerKey: 'trigger-2' });
    const promo = rendered('p-capped', campaignSpec('promo'));
    const thirdOfDay = rendered('p-capped', campaignSpec('digest'));
    const receipt = rendered(
      'p-capped',
      campaignSpec('receipt', { sendPolicy: { maxPerDay: 0, transactional: true } }),
    );
    for (const input of [welcome, welcomeAgain, promo, thirdOfDay, receipt])
      await delivery.publishRendered(input);

    await sentOf(welcome);
    expect(await skipOf(welcomeAgain)).toMatchObject({
      reason: 'frequency_capped',
      detail: 'campaign_weekly_cap',
    });
    await sentOf(promo);
    expect(await skipOf(thirdOfDay)).toMatchObject({ reason: 'frequency_capped', detail: 'daily_cap' });
    await sentOf(receipt);
    expect(emailsTo('p-capped')).toHaveLength(3);
  });

  it('applies a campaign’s own tighter daily cap', async () => {
    const first = rendered('p-own-cap', campaignSpec('first'));
    const strict = rendered(
      'p-own-cap',
      campaignSpec('strict', { sendPolicy: { maxPerDay: 1, transactional: false } }),
    );
    await delivery.publishRendered(first);
    await sentOf(first);
    await delivery.publishRendered(strict);
    expect(await skipOf(strict)).toMatchObject({ reason: 'frequency_capped', detail: 'daily_cap' });
  });

  it('defers email during the recipient’s quiet hours and sends it when they end', async () => {
    const zone = zoneAtNight();
    const input = rendered('p-night', campaignSpec('browse'), { timezone: zone });
    await delivery.publishRendered(input);
    const deferred = (
      await delivery.tap.nextCausedBy<DeliveryDeferredPayload>(SUBJECTS.delivery.deferred, input)
    ).envelope.data;
    expect(deferred.reason).toBe('quiet_hours');
    const until = new Date(deferred.until);
    const localEnd = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit' });
    expect(localEnd.format(until)).toBe('08:00');
    await idle();
    expect(emailsTo('p-night')).toEqual([]);

    // The morning comes.
    travelTo(new Date(until.getTime() + 1_000));
    const sent = await sentOf(input);
    expect(emailsTo('p-night')).toHaveLength(1);
    expect((sent.envelope.data as { sentAt: string }).sentAt).toBe(
      new Date(until.getTime() + 1_000).toISOString(),
    );
  });

  it('when deferred emails collide on the daily cap, the higher priority campaigns get the slots', async () => {
    const zone = zoneAtNight();
    const low = rendered('p-priority', campaignSpec('low', { priority: 1 }), { timezone: zone });
    const high = rendered('p-priority', campaignSpec('high', { priority: 50 }), { timezone: zone });
    const middle = rendered('p-priority', campaignSpec('middle', { priority: 10 }), { timezone: zone });
    for (const input of [low, high, middle]) {
      await delivery.publishRendered(input);
      await delivery.tap.nextCausedBy(SUBJECTS.delivery.deferred, input);
    }
    const until = new Date(
      (await delivery.tap.nextCausedBy<DeliveryDeferredPayload>(SUBJECTS.delivery.deferred, low)).envelope
        .data.until,
    );

    travelTo(new Date(until.getTime() + 1_000));
    await sentOf(high);
    await sentOf(middle);
    expect(await skipOf(low)).toMatchObject({ reason: 'frequency_capped', detail: 'lower_priority' });
    expect(
      emailsTo('p-priority')
        .map((email) => email.subject)
        .sort(),
    ).toEqual(['high for p-priority', 'middle for p-priority']);
  });

  it('when caps collide within the priority window the higher priority campaign wins; across windows, first come first served', async () => {
    const capOfOne = { sendPolicy: { maxPerDay: 1, transactional: false } };
    const low = rendered('p-window', campaignSpec('w-low', { priority: 1, ...capOfOne }));
    const high = rendered('p-window', campaignSpec('w-high', { priority: 50, ...capOfOne }));
    // Low first, then high (and a copy of high, redelivered while it is held) within the window.
    await delivery.publishRendered(low);
    await delivery.publishRendered(high);
    await publishCopy(delivery.natsUrl, SUBJECTS.renderer.rendered, high);
    await sentOf(high);
    expect(await skipOf(low)).toMatchObject({ reason: 'frequency_capped', detail: 'lower_priority' });
    await idle();
    await waitFor('the held sends to be released', async () => (await heldSends('p-window')) === 0);
    expect(emailsTo('p-window').map((email) => email.subject)).toEqual(['w-high for p-window']);
    // The hold is internal: no deferral announced.
    expect(delivery.tap.causedBy(SUBJECTS.delivery.deferred, low)).toEqual([]);
    expect(delivery.tap.causedBy(SUBJECTS.delivery.deferred, high)).toEqual([]);

    // Across windows: the low one was sent before the high one arrived and cannot be recalled.
    const lateLow = rendered('p-late', campaignSpec('w-low', { priority: 1, ...capOfOne }));
    const lateHigh = rendered('p-late', campaignSpec('w-high', { priority: 50, ...capOfOne }));
    await delivery.publishRendered(lateLow);
    await sentOf(lateLow);
    await delivery.publishRendered(lateHigh);
    expect(await skipOf(lateHigh)).toMatchObject({ reason: 'frequency_capped', detail: 'daily_cap' });
    expect(emailsTo('p-late').map((email) => email.subject)).toEqual(['w-low for p-late']);
  });

  it('a redelivered email that went out is announced as sent again, even if it would now be skipped', async () => {
    const input = rendered('p-then-suppressed', campaignSpec('newsletter'));
    await delivery.publishRendered(input);
    const sent = await sentOf(input);
    const suppressed = await fetch(`${delivery.service.url}/admin/suppressions`, {
      method: 'PUT',
      headers: ADMIN_JSON,
      body: JSON.stringify({ email: 'p-then-suppressed@example.com' }),
    });
    expect(suppressed.status).toBe(200);

    await publishCopy(delivery.natsUrl, SUBJECTS.renderer.rendered, input);
    await waitFor(
      'the redelivery to be announced',
      () => delivery.tap.causedBy(SUBJECTS.delivery.sent, input).length === 2,
    );
    await idle();
    expect(new Set(delivery.tap.causedBy(SUBJECTS.delivery.sent, input).map((m) => m.envelope.id))).toEqual(
      new Set([sent.envelope.id]),
    );
    expect(delivery.tap.causedBy(SUBJECTS.delivery.skipped, input)).toEqual([]);
    expect(emailsTo('p-then-suppressed')).toHaveLength(1);
  });

  it('a held email whose window ended without its release (the replica that held it stopped) is released by the poll', async () => {
    const input = rendered(
      'p-orphan',
      campaignSpec('orphan', { sendPolicy: { maxPerDay: 1, transactional: false } }),
    );
    const key = deterministicId('send', 'orphan', 'p-orphan', 'trigger-1');
    // What the hold left in the deferral store, its window over; no wake will come for it.
    const windowEnd = new Date();
    await delivery.service.app.get(DeferralsRepository).hold({
      key,
      envelope: input,
      dueAt: windowEnd,
      priority: 0,
      reason: PRIORITY_HOLD,
    });
    // Within the grace the poll leaves it to the release woken at the window's end; after it, takes it.
    travelTo(new Date(windowEnd.getTime() + 10 * 60_000));
    await sentOf(input);
    await waitFor('the held send to be gone', async () => (await heldSends('p-orphan')) === 0);
    expect(emailsTo('p-orphan')).toHaveLength(1);
  });
});
