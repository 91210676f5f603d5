import {
  type CampaignSpecDto,
  type DeliveryDeferredPayload,
  type DeliverySkippedPayload,
  deterministicId,
  type Envelope,
  originEnvelope,
  type RenderedEmailPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { type MessagePublisher } from '@mesh/messaging';
import {
  consumerIsIdle,
  type MessageTap,
  publishCopy,
  type ServiceUnderTest,
  SmtpSink,
  startServiceUnderTest,
  subjectCounts,
  waitFor,
} from '@mesh/testing';
import { Clock } from '../src/clock.js';
import { deliverySpec } from '../src/delivery.app.js';

const ADMIN = { authorization: 'Bearer delivery-test-admin-token', 'content-type': 'application/json' };

function campaign(campaignId: string, extra: Partial<CampaignSpecDto> = {}): CampaignSpecDto {
  return {
    campaignId,
    name: campaignId,
    templateId: campaignId,
    recommendation: { strategy: 'none', limit: 0 },
    sendPolicy: { maxPerDay: 0, transactional: false },
    ...extra,
  };
}

function rendered(
  profileId: string,
  spec: CampaignSpecDto,
  options: { triggerKey?: string; timezone?: string } = {},
): Envelope<RenderedEmailPayload> {
  return originEnvelope({
    type: 'email.rendered',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    profileId,
    data: {
      campaign: spec,
      triggerKey: options.triggerKey ?? 'trigger-1',
      template: { id: spec.templateId, version: 1 },
      to: `${profileId}@example.com`,
      subject: `${spec.campaignId} for ${profileId}`,
      html: '<p>Hello</p>',
      text: 'Hello',
      ...(options.timezone ? { recipient: { timezone: options.timezone } } : {}),
    },
  });
}

/** A fixed-offset zone where it is 23:xx right now: inside the default quiet hours (21:00–08:00). */
function zoneAtNight(now = new Date()): string {
  const offset = ((23 - now.getUTCHours() + 12 + 24) % 24) - 12;
  return offset >= 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}

describe('delivery: the decision point', () => {
  let under: ServiceUnderTest;
  let sink: SmtpSink;
  let publisher: MessagePublisher;
  let tap: MessageTap;
  let clock: Clock;

  beforeAll(async () => {
    sink = new SmtpSink();
    const smtpPort = await sink.start();
    under = await startServiceUnderTest({
      name: 'delivery',
      spec: deliverySpec,
      redis: true,
      tap: '>',
      env: {
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        DELIVERY_CAP_PER_DAY: '2',
        DELIVERY_CAP_PER_CAMPAIGN_WEEK: '1',
        DELIVERY_DEFERRAL_POLL_MS: '100',
        DELIVERY_PRIORITY_WINDOW_MS: '2500',
      },
    });
    ({ publisher, tap } = under);
    clock = under.service.app.get(Clock);
  }, 60_000);
  afterAll(async () => {
    await under?.close();
    await sink?.stop();
  });
  // Moves the service's clock (the time its decisions are made at); reset after each test.
  const travelTo = (at: Date) => {
    clock.now = () => new Date(at);
  };
  afterEach(() => {
    clock.now = () => new Date();
  });

  const emailsTo = (profileId: string) =>
    sink.messages().filter((email) => email.to.includes(`${profileId}@example.com`));
  const idle = () =>
    waitFor('delivery to settle everything', async () => {
      for (const [stream, durable] of [
        ['RENDERER', 'delivery__renderer_rendered'],
        ['IDENTITY', 'delivery__identity_resolved_consent'],
        ['IDENTITY', 'delivery__identity_resolved_identify'],
        ['ENRICHMENT', 'delivery__enrichment_profile_updated'],
      ] as const) {
        if (!(await consumerIsIdle(under.natsUrl, stream, durable))) return false;
      }
      return true;
    });
  const skipOf = (input: Envelope) =>
    tap.nextCausedBy<DeliverySkippedPayload>(SUBJECTS.delivery.skipped, input).then((m) => m.envelope.data);
  const sentOf = (input: Envelope) => tap.nextCausedBy(SUBJECTS.delivery.sent, input);
  const heldSends = (profileId: string) =>
    under.db.collection('deferred_sends').countDocuments({ profileId });

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
    await publisher.publish(
      SUBJECTS.identity.resolved.consent,
      consentEvent('p-consent', 'opted_out', '2026-01-02T00:00:00.000Z'),
    );
    await idle();
    const first = rendered('p-consent', campaign('newsletter'), { triggerKey: 'issue-1' });
    await publisher.publish(SUBJECTS.renderer.rendered, first);
    expect(await skipOf(first)).toMatchObject({ reason: 'no_consent', detail: 'opted_out' });

    // An older statement arriving late changes nothing; a newer one does.
    await publisher.publish(
      SUBJECTS.identity.resolved.consent,
      consentEvent('p-consent', 'opted_in', '2026-01-01T00:00:00.000Z'),
    );
    await idle();
    const second = rendered('p-consent', campaign('newsletter'), { triggerKey: 'issue-2' });
    await publisher.publish(SUBJECTS.renderer.rendered, second);
    expect(await skipOf(second)).toMatchObject({ reason: 'no_consent' });

    await publisher.publish(
      SUBJECTS.identity.resolved.consent,
      consentEvent('p-consent', 'opted_in', '2026-01-03T00:00:00.000Z'),
    );
    await idle();
    const third = rendered('p-consent', campaign('newsletter'), { triggerKey: 'issue-3' });
    await publisher.publish(SUBJECTS.renderer.rendered, third);
    await sentOf(third);
    expect(emailsTo('p-consent').map((email) => email.subject)).toEqual(['newsletter for p-consent']);
  });

  it('reads consent from identify traits and from the profile enrichment computed', async () => {
    await publisher.publish(
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
    await publisher.publish(
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
    const viaTraits = rendered('p-traits', campaign('newsletter'));
    const viaComputed = rendered('p-computed', campaign('newsletter'));
    await publisher.publish(SUBJECTS.renderer.rendered, viaTraits);
    await publisher.publish(SUBJECTS.renderer.rendered, viaComputed);

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
      const response = await fetch(`${under.service.url}/admin/suppressions`, {
        method: 'PUT',
        headers: ADMIN,
        body: JSON.stringify({ email: `${profileId}@example.com`, ...(reason ? { reason } : {}) }),
      });
      expect(response.status).toBe(200);
    }
    const invalid = await fetch(`${under.service.url}/admin/suppressions`, {
      method: 'PUT',
      headers: ADMIN,
      body: JSON.stringify({ email: 'not-an-address' }),
    });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(await invalid.json())).toContain('email');

    const bounced = rendered('p-bounced', campaign('newsletter'));
    const manual = rendered('p-manual', campaign('newsletter'));
    const unsubMarketing = rendered('p-unsub', campaign('newsletter'));
    const unsubReceipt = rendered(
      'p-unsub',
      campaign('receipt', { sendPolicy: { maxPerDay: 0, transactional: true } }),
    );
    for (const input of [bounced, manual, unsubMarketing, unsubReceipt])
      await publisher.publish(SUBJECTS.renderer.rendered, input);

    const bouncedSkip = await skipOf(bounced);
    expect(bouncedSkip).toMatchObject({ reason: 'suppressed', detail: 'hard_bounce' });
    expect(bouncedSkip.sendId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await skipOf(manual)).toMatchObject({ reason: 'suppressed', detail: 'manual' });
    expect(await skipOf(unsubMarketing)).toMatchObject({ reason: 'suppressed', detail: 'unsubscribe' });
    await sentOf(unsubReceipt);
    expect(emailsTo('p-unsub').map((email) => email.subject)).toEqual(['receipt for p-unsub']);

    const before = (await subjectCounts(under.natsUrl, 'DELIVERY'))[SUBJECTS.delivery.skipped] ?? 0;
    await publishCopy(under.natsUrl, SUBJECTS.renderer.rendered, bounced);
    await idle();
    expect(tap.causedBy(SUBJECTS.delivery.skipped, bounced)).toHaveLength(2);
    expect((await subjectCounts(under.natsUrl, 'DELIVERY'))[SUBJECTS.delivery.skipped]).toBe(before);
    expect(emailsTo('p-bounced')).toEqual([]);
  });

  it('caps emails per day across campaigns and per campaign per week; transactional email is not capped', async () => {
    const welcome = rendered('p-capped', campaign('welcome'));
    const welcomeAgain = rendered('p-capped', campaign('welcome'), { triggerKey: 'trigger-2' });
    const promo = rendered('p-capped', campaign('promo'));
    const thirdOfDay = rendered('p-capped', campaign('digest'));
    const receipt = rendered(
      'p-capped',
      campaign('receipt', { sendPolicy: { maxPerDay: 0, transactional: true } }),
    );
    for (const input of [welcome, welcomeAgain, promo, thirdOfDay, receipt])
      await publisher.publish(SUBJECTS.renderer.rendered, input);

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
    const first = rendered('p-own-cap', campaign('first'));
    const strict = rendered(
      'p-own-cap',
      campaign('strict', { sendPolicy: { maxPerDay: 1, transactional: false } }),
    );
    await publisher.publish(SUBJECTS.renderer.rendered, first);
    await sentOf(first);
    await publisher.publish(SUBJECTS.renderer.rendered, strict);
    expect(await skipOf(strict)).toMatchObject({ reason: 'frequency_capped', detail: 'daily_cap' });
  });

  it('defers email during the recipient’s quiet hours and sends it when they end', async () => {
    const zone = zoneAtNight();
    const input = rendered('p-night', campaign('browse'), { timezone: zone });
    await publisher.publish(SUBJECTS.renderer.rendered, input);
    const deferred = (await tap.nextCausedBy<DeliveryDeferredPayload>(SUBJECTS.delivery.deferred, input))
      .envelope.data;
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
    const low = rendered('p-priority', campaign('low', { priority: 1 }), { timezone: zone });
    const high = rendered('p-priority', campaign('high', { priority: 50 }), { timezone: zone });
    const middle = rendered('p-priority', campaign('middle', { priority: 10 }), { timezone: zone });
    for (const input of [low, high, middle]) {
      await publisher.publish(SUBJECTS.renderer.rendered, input);
      await tap.nextCausedBy(SUBJECTS.delivery.deferred, input);
    }
    const until = new Date(
      (await tap.nextCausedBy<DeliveryDeferredPayload>(SUBJECTS.delivery.deferred, low)).envelope.data.until,
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
    const low = rendered('p-window', campaign('w-low', { priority: 1, ...capOfOne }));
    const high = rendered('p-window', campaign('w-high', { priority: 50, ...capOfOne }));
    // Low first, then high (and a copy of high, redelivered while it is held) within the window.
    await publisher.publish(SUBJECTS.renderer.rendered, low);
    await publisher.publish(SUBJECTS.renderer.rendered, high);
    await publishCopy(under.natsUrl, SUBJECTS.renderer.rendered, high);
    await sentOf(high);
    expect(await skipOf(low)).toMatchObject({ reason: 'frequency_capped', detail: 'lower_priority' });
    await idle();
    await waitFor('the held sends to be released', async () => (await heldSends('p-window')) === 0);
    expect(emailsTo('p-window').map((email) => email.subject)).toEqual(['w-high for p-window']);
    // The hold is internal: no deferral announced.
    expect(tap.causedBy(SUBJECTS.delivery.deferred, low)).toEqual([]);
    expect(tap.causedBy(SUBJECTS.delivery.deferred, high)).toEqual([]);

    // Across windows: the low one was sent before the high one arrived and cannot be recalled.
    const lateLow = rendered('p-late', campaign('w-low', { priority: 1, ...capOfOne }));
    const lateHigh = rendered('p-late', campaign('w-high', { priority: 50, ...capOfOne }));
    await publisher.publish(SUBJECTS.renderer.rendered, lateLow);
    await sentOf(lateLow);
    await publisher.publish(SUBJECTS.renderer.rendered, lateHigh);
    expect(await skipOf(lateHigh)).toMatchObject({ reason: 'frequency_capped', detail: 'daily_cap' });
    expect(emailsTo('p-late').map((email) => email.subject)).toEqual(['w-low for p-late']);
  });

  it('a redelivered email that went out is announced as sent again, even if it would now be skipped', async () => {
    const input = rendered('p-then-suppressed', campaign('newsletter'));
    await publisher.publish(SUBJECTS.renderer.rendered, input);
    const sent = await sentOf(input);
    const suppressed = await fetch(`${under.service.url}/admin/suppressions`, {
      method: 'PUT',
      headers: ADMIN,
      body: JSON.stringify({ email: 'p-then-suppressed@example.com' }),
    });
    expect(suppressed.status).toBe(200);

    await publishCopy(under.natsUrl, SUBJECTS.renderer.rendered, input);
    await waitFor(
      'the redelivery to be announced',
      () => tap.causedBy(SUBJECTS.delivery.sent, input).length === 2,
    );
    await idle();
    expect(new Set(tap.causedBy(SUBJECTS.delivery.sent, input).map((m) => m.envelope.id))).toEqual(
      new Set([sent.envelope.id]),
    );
    expect(tap.causedBy(SUBJECTS.delivery.skipped, input)).toEqual([]);
    expect(emailsTo('p-then-suppressed')).toHaveLength(1);
  });

  it('a held email whose window ended without its release (the replica that held it stopped) is released by the poll', async () => {
    const input = rendered(
      'p-orphan',
      campaign('orphan', { sendPolicy: { maxPerDay: 1, transactional: false } }),
    );
    const key = deterministicId('send', 'orphan', 'p-orphan', 'trigger-1');
    // What the hold left in the deferral store, its window over; no wake will come for it.
    const windowEnd = new Date();
    await under.db.collection('deferred_sends').insertOne({
      _id: key as never,
      envelope: JSON.stringify(input),
      envelopeId: input.id,
      profileId: 'p-orphan',
      dueAt: windowEnd,
      priority: 0,
      reason: 'priority_window',
      leasedUntil: new Date(0),
      arrivedAt: Date.now(),
      createdAt: windowEnd,
      schemaVersion: 1,
    });
    // Within the grace the poll leaves it to the release woken at the window's end; after it, takes it.
    travelTo(new Date(windowEnd.getTime() + 10 * 60_000));
    await sentOf(input);
    await waitFor('the held send to be gone', async () => (await heldSends('p-orphan')) === 0);
    expect(emailsTo('p-orphan')).toHaveLength(1);
  });
});
