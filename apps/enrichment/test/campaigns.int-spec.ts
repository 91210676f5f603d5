import {
  type ProfilesMergedPayload,
  type EraseDonePayload,
  type EraseRequestedPayload,
  originEnvelope,
  type SendIntentPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { consumerIsIdle, publishCopy, waitFor } from '@mesh/testing';
import { EnrichmentFixture, example, identify, track } from './enrichment-fixture.js';
import { CampaignTimers } from '../src/campaigns/campaign-timers.js';

const MINUTE = 60_000;
const RESOLVED = 'enrichment__identity_resolved_any';

describe('enrichment campaigns: triggers, waits, cancellations, re-entry and variants', () => {
  let mesh: EnrichmentFixture;

  beforeAll(async () => {
    mesh = await EnrichmentFixture.start();
    for (const name of ['cart-abandonment', 'welcome', 'post-purchase']) {
      const created = await mesh.api('POST', '/api/campaigns', example(name));
      expect(created.status).toBe(201);
    }
  }, 60_000);
  afterAll(async () => {
    await mesh?.close();
  });

  const intentsFor = (profileId: string, campaignId: string) =>
    mesh.tap
      .messages(SUBJECTS.enrichment.triggered)
      .filter(
        (message) =>
          message.envelope.profileId === profileId &&
          (message.envelope.data as SendIntentPayload).campaign.campaignId === campaignId,
      );
  // Generous: FerretDB writes slow down a lot when the machine is busy with other test files.
  const settled = () =>
    waitFor(
      'enrichment to settle every resolved event',
      () => consumerIsIdle(mesh.infra.natsUrl!, 'IDENTITY', RESOLVED),
      90_000,
    );
  const waiting = (profileId: string) =>
    waitFor(`a campaign timer for ${profileId}`, async () => {
      const entry = await mesh.db.collection('campaign_entries').findOne({ profileId, state: 'waiting' });
      return entry ?? false;
    });
  /** Every timer due by now has been through the worker. */
  const timersDrained = () =>
    waitFor('the due timers to be fired', async () => {
      const due = await mesh.db.collection('campaign_entries').countDocuments({ state: 'waiting' });
      return due === 0;
    });
  const publish = (envelope: ReturnType<typeof track>) =>
    mesh.publisher.publish(SUBJECTS.identity.resolved.track, envelope);
  const withEmail = (profileId: string) => ({ traits: { email: `${profileId}@example.com` } });

  it('admin API: needs the admin token and names the field at fault', async () => {
    expect((await mesh.api('GET', '/api/campaigns', undefined, '')).status).toBe(401);
    expect((await mesh.api('GET', '/api/campaigns', undefined, 'wrong-token-0123456789')).status).toBe(401);
    const invalid = await mesh.api<{ fields: Record<string, string[]> }>('POST', '/api/campaigns', {
      ...example('cart-abandonment'),
      campaignId: 'broken',
      wait: { seconds: 0 },
      trigger: { event: 'Product Added', conditions: { attr: 'plan', op: 'eq', value: 1 } },
    });
    expect(invalid.status).toBe(400);
    expect(Object.keys(invalid.body.fields)).toEqual(
      expect.arrayContaining(['trigger.conditions', 'wait.seconds']),
    );
    expect((await mesh.api('POST', '/api/campaigns', example('welcome'))).status).toBe(409);
    const listed = await mesh.api<Array<{ campaignId: string }>>('GET', '/api/campaigns');
    expect(listed.body.map((campaign) => campaign.campaignId)).toEqual([
      'cart-abandonment',
      'post-purchase',
      'welcome',
    ]);
  });

  it('cart abandoned: exactly one send intent, only after the wait, with the spec, variant and profile', async () => {
    const added = track(
      'shopper-1',
      'Product Added',
      { cart_id: 'cart-1', product_id: 'sku-1', price: 30, currency: 'EUR' },
      withEmail('shopper-1'),
    );
    await publish(added);
    await waiting('shopper-1');
    mesh.clock.advance(29 * MINUTE);
    // Polls run every 50 ms: several pass before the wait is over, and send nothing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(intentsFor('shopper-1', 'cart-abandonment')).toEqual([]);

    mesh.clock.advance(2 * MINUTE);
    const intent = await mesh.tap.next<SendIntentPayload>(
      SUBJECTS.enrichment.triggered,
      (message) => message.envelope.profileId === 'shopper-1',
    );
    expect(intent.envelope.causationId).toBe(added.id);
    expect(intent.envelope.data).toMatchObject({
      triggerKey: 'cart:cart-1',
      trigger: { event: 'Product Added', properties: added.data.properties },
      campaign: { campaignId: 'cart-abandonment', priority: 50 },
      profile: { profileId: 'shopper-1', computed: { cart: { cart_id: 'cart-1', value: 30 } } },
    });
    expect(['reminder', 'with-picks']).toContain(intent.envelope.data.campaign.variant);

    // The trigger redelivered, and time moving on: still one.
    await publishCopy(mesh.infra.natsUrl!, SUBJECTS.identity.resolved.track, added);
    await settled();
    mesh.clock.advance(60 * MINUTE);
    await timersDrained();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(intentsFor('shopper-1', 'cart-abandonment')).toHaveLength(1);
  });

  it('a purchase during the wait cancels it: no send', async () => {
    await publish(
      track(
        'shopper-2',
        'Product Added',
        { cart_id: 'cart-2', product_id: 'sku-2', price: 10 },
        withEmail('shopper-2'),
      ),
    );
    await waiting('shopper-2');
    await publish(
      track('shopper-2', 'Order Completed', { order_id: 'order-2', revenue: 10, currency: 'EUR' }),
    );
    await settled();
    // A witness whose wait ends with the same clock move: once it fires, shopper-2's would have too.
    await publish(
      track(
        'witness-2',
        'Product Added',
        { cart_id: 'cart-w2', product_id: 'sku-2' },
        withEmail('witness-2'),
      ),
    );
    await waiting('witness-2');
    mesh.clock.advance(31 * MINUTE);
    await mesh.tap.next(
      SUBJECTS.enrichment.triggered,
      (message) => message.envelope.profileId === 'witness-2',
    );
    await timersDrained();
    expect(intentsFor('shopper-2', 'cart-abandonment')).toEqual([]);
    const entry = await mesh.db
      .collection('campaign_entries')
      .findOne({ profileId: 'shopper-2', campaignId: 'cart-abandonment' });
    expect(entry).toMatchObject({ state: 'cancelled', triggerKey: 'cart:cart-2' });
  });

  it('re-entry: welcome once per profile; cart reminders once per cart', async () => {
    await publish(track('newcomer', 'Signed Up', {}));
    await mesh.tap.next(
      SUBJECTS.enrichment.triggered,
      (message) => message.envelope.profileId === 'newcomer',
    );
    await publish(track('newcomer', 'Signed Up', {}));
    await settled();
    expect(intentsFor('newcomer', 'welcome')).toHaveLength(1);

    for (const cart of ['cart-a', 'cart-b']) {
      await publish(
        track('returning', 'Product Added', { cart_id: cart, product_id: 'sku-9' }, withEmail('returning')),
      );
    }
    await settled();
    mesh.clock.advance(31 * MINUTE);
    await waitFor('two cart reminders', () => intentsFor('returning', 'cart-abandonment').length === 2);
    const keys = intentsFor('returning', 'cart-abandonment').map(
      (message) => (message.envelope.data as SendIntentPayload).triggerKey,
    );
    expect(keys.sort()).toEqual(['cart:cart-a', 'cart:cart-b']);
  });

  it('post-purchase waits a week after an order over its condition, and a refund cancels it', async () => {
    await publish(track('buyer', 'Order Completed', { order_id: 'small', revenue: 5 }));
    await publish(track('buyer', 'Order Completed', { order_id: 'big', revenue: 120 }));
    await settled();
    const entry = await mesh.db
      .collection('campaign_entries')
      .findOne({ profileId: 'buyer', campaignId: 'post-purchase' });
    expect(entry).toMatchObject({ state: 'waiting', triggerKey: 'order:big' });
    mesh.clock.advance(7 * 24 * 60 * MINUTE + MINUTE);
    const intent = await mesh.tap.next<SendIntentPayload>(
      SUBJECTS.enrichment.triggered,
      (message) => message.envelope.profileId === 'buyer',
    );
    expect(intent.envelope.data.campaign.templateId).toBe('post-purchase');

    await publish(track('refunder', 'Order Completed', { order_id: 'r-1', revenue: 80 }));
    await waiting('refunder');
    await publish(track('refunder', 'Order Refunded', { order_id: 'r-1' }));
    await settled();
    const refunded = await mesh.db
      .collection('campaign_entries')
      .findOne({ profileId: 'refunder', campaignId: 'post-purchase' });
    expect(refunded).toMatchObject({ state: 'cancelled' });
  });

  it('splits profiles between variants by weight, within tolerance', async () => {
    const created = await mesh.api('POST', '/api/campaigns', {
      ...example('welcome'),
      campaignId: 'ab-welcome',
      trigger: { event: 'Joined' },
      variants: [
        { name: 'a', weight: 1 },
        { name: 'b', weight: 1, templateId: 'welcome-b' },
      ],
      holdoutPercent: 20,
    });
    expect(created.status).toBe(201);
    const profiles = Array.from({ length: 300 }, (_, index) => `ab-${index}`);
    await Promise.all(profiles.map((profileId) => publish(track(profileId, 'Joined', {}))));
    await settled();
    const intents = mesh.tap
      .messages(SUBJECTS.enrichment.triggered)
      .map((message) => message.envelope.data as SendIntentPayload)
      .filter((data) => data.campaign.campaignId === 'ab-welcome');
    const share = (variant: string) =>
      intents.filter((data) => data.campaign.variant === variant).length / 300;
    // Expected 40% / 40% / 20% held out; 300 draws stay within 8 points (> 3 standard deviations).
    expect(Math.abs(share('a') - 0.4)).toBeLessThan(0.08);
    expect(Math.abs(share('b') - 0.4)).toBeLessThan(0.08);
    expect(Math.abs(1 - intents.length / 300 - 0.2)).toBeLessThan(0.08);
    expect(
      intents
        .filter((data) => data.campaign.variant === 'b')
        .every((data) => data.campaign.templateId === 'welcome-b'),
    ).toBe(true);
  }, 120_000);

  it('erasure removes the profile, its memberships, entries, timers and cached snapshot, and confirms', async () => {
    await mesh.publisher.publish(
      SUBJECTS.identity.resolved.identify,
      identify('forget-me', { email: 'forget@example.com' }),
    );
    await publish(track('forget-me', 'Product Added', { cart_id: 'cart-f', product_id: 'sku-f' }));
    await waiting('forget-me');
    expect((await mesh.api('GET', '/api/profiles/forget-me')).status).toBe(200);

    const request = originEnvelope<EraseRequestedPayload>({
      type: 'privacy.erase.requested',
      source: 'ingest',
      occurredAt: new Date().toISOString(),
      data: { requestId: 'erase-1', identifiers: [{ type: 'email', value: 'forget@example.com' }] },
    });
    await mesh.publisher.publish(SUBJECTS.privacy.eraseRequested, request);
    const receipt = await mesh.tap.nextCausedBy<EraseDonePayload>(
      SUBJECTS.privacy.eraseDone('enrichment'),
      request,
    );
    expect(receipt.envelope.data).toMatchObject({
      requestId: 'erase-1',
      service: 'enrichment',
      removed: { profiles: 1, timers: 1, campaign_entries: 1, cached_snapshots: 1 },
    });
    expect((await mesh.api('GET', '/api/profiles/forget-me')).status).toBe(404);
    expect(await mesh.db.collection('campaign_entries').countDocuments({ profileId: 'forget-me' })).toBe(0);

    // Its wait is gone: the clock passing it sends nothing.
    await publish(
      track(
        'witness-f',
        'Product Added',
        { cart_id: 'cart-wf', product_id: 'sku-f' },
        withEmail('witness-f'),
      ),
    );
    await waiting('witness-f');
    mesh.clock.advance(31 * MINUTE);
    await mesh.tap.next(
      SUBJECTS.enrichment.triggered,
      (message) => message.envelope.profileId === 'witness-f',
    );
    expect(intentsFor('forget-me', 'cart-abandonment')).toEqual([]);
  });
  describe('timers follow identity merges', () => {
    // An anonymous visitor has no e-mail: this campaign triggers on the laptop alone.
    beforeAll(async () => {
      const cart = example('cart-abandonment');
      const created = await mesh.api('POST', '/api/campaigns', {
        ...cart,
        campaignId: 'cart-anonymous',
        trigger: {
          event: 'Product Added',
          conditions: { attr: 'properties.product_id', op: 'eq', value: 'laptop' },
        },
      });
      expect(created.status).toBe(201);
    });

    const mergeEnvelope = (mergeId: string, survivorId: string, mergedId: string) =>
      originEnvelope<ProfilesMergedPayload>({
        type: 'identity.merged',
        source: 'identity',
        occurredAt: new Date().toISOString(),
        profileId: survivorId,
        data: { mergeId, survivorId, mergedIds: [mergedId], reason: 'identified', evidence: [] },
      });
    const mergesSettled = () =>
      waitFor(
        'enrichment to settle every merge',
        () => consumerIsIdle(mesh.infra.natsUrl!, 'IDENTITY', 'enrichment__identity_merged'),
        90_000,
      );
    /** A known profile with an e-mail, and an anonymous one waiting in cart-anonymous for its laptop. */
    const anonymousCart = async (name: string) => {
      const anonymous = `anon-${name}`;
      const known = `known-${name}`;
      await mesh.publisher.publish(
        SUBJECTS.identity.resolved.identify,
        identify(known, { email: `${known}@example.com` }),
      );
      await publish(
        track(anonymous, 'Product Added', { cart_id: `cart-${name}`, product_id: 'laptop', price: 900 }),
      );
      await waiting(anonymous);
      return { anonymous, known };
    };
    /** The anonymous cart, then the merge at checkout; the wait has moved to the known profile. */
    const anonymousCartThenMerge = async (name: string, redeliver = false) => {
      const { anonymous, known } = await anonymousCart(name);
      const merged = mergeEnvelope(`merge-${name}`, known, anonymous);
      await mesh.publisher.publish(SUBJECTS.identity.merged, merged);
      await mesh.tap.nextCausedBy(SUBJECTS.enrichment.profileUpdated, merged);
      if (redeliver) await publishCopy(mesh.infra.natsUrl!, SUBJECTS.identity.merged, merged);
      await mergesSettled();
      const entries = mesh.db.collection('campaign_entries');
      await waitFor(
        "the wait to be the survivor's",
        async () =>
          (await entries.findOne({ profileId: known, campaignId: 'cart-anonymous', state: 'waiting' })) !==
          null,
      );
      expect(await entries.findOne({ profileId: anonymous, campaignId: 'cart-anonymous' })).toMatchObject({
        state: 'cancelled',
      });
      return { anonymous, known };
    };

    // Orders here stay under post-purchase's 20: its week-long wait would keep `timersDrained` waiting.
    it('an order on the survivor cancels the wait that came from the anonymous profile', async () => {
      const { anonymous, known } = await anonymousCartThenMerge('order');
      await publish(track(known, 'Order Completed', { order_id: 'order-m', revenue: 9, currency: 'EUR' }));
      await settled();
      const entry = await mesh.db
        .collection('campaign_entries')
        .findOne({ profileId: known, campaignId: 'cart-anonymous' });
      expect(entry).toMatchObject({ state: 'cancelled', triggerKey: 'cart:cart-order' });
      mesh.clock.advance(31 * MINUTE);
      await timersDrained();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(intentsFor(known, 'cart-anonymous')).toEqual([]);
      expect(intentsFor(anonymous, 'cart-anonymous')).toEqual([]);
    });

    it('the visitor leaves: exactly one send, for the survivor, with its e-mail', async () => {
      const { anonymous, known } = await anonymousCartThenMerge('leave');
      mesh.clock.advance(31 * MINUTE);
      const intent = await mesh.tap.next<SendIntentPayload>(
        SUBJECTS.enrichment.triggered,
        (message) => message.envelope.profileId === known,
      );
      expect(intent.envelope.data).toMatchObject({
        triggerKey: 'cart:cart-leave',
        campaign: { campaignId: 'cart-anonymous' },
        profile: { profileId: known, traits: { email: `${known}@example.com` } },
      });
      await timersDrained();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(intentsFor(known, 'cart-anonymous')).toHaveLength(1);
      expect(intentsFor(anonymous, 'cart-anonymous')).toEqual([]);
    });

    it('a redelivered identity.merged still gives exactly one timer and one send', async () => {
      const { anonymous, known } = await anonymousCartThenMerge('twice', true);
      const timers = mesh.service.app.get(CampaignTimers);
      expect(await timers.pendingFor(known)).toMatchObject([
        { profileId: known, campaignId: 'cart-anonymous', triggerKey: 'cart:cart-twice' },
      ]);
      expect(await timers.pendingFor(anonymous)).toEqual([]);
      mesh.clock.advance(31 * MINUTE);
      await mesh.tap.next(SUBJECTS.enrichment.triggered, (message) => message.envelope.profileId === known);
      await timersDrained();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(intentsFor(known, 'cart-anonymous')).toHaveLength(1);
      expect(intentsFor(anonymous, 'cart-anonymous')).toEqual([]);
    });

    it('a wait due while a merge holds its profile is not sent for it; once merged, it is sent for the survivor', async () => {
      // The race: a wait that read "not merged" just before the merge began. The merge holds the
      // profile's waits (as FollowMergeUseCase does) before marking it; the wait comes due meanwhile.
      const { anonymous, known } = await anonymousCart('held');
      await settled();
      const timers = mesh.service.app.get(CampaignTimers);
      const hold = await timers.tryHold(anonymous);
      expect(hold).toBeDefined();
      mesh.clock.advance(31 * MINUTE);
      // Many polls (50 ms apart) find the wait due and leave it to the merge.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(intentsFor(anonymous, 'cart-anonymous')).toEqual([]);
      expect(await timers.pendingFor(anonymous)).toHaveLength(1);

      await timers.markMerged([anonymous], known);
      await timers.letGo(anonymous, hold!);
      const intent = await mesh.tap.next<SendIntentPayload>(
        SUBJECTS.enrichment.triggered,
        (message) => message.envelope.profileId === known,
      );
      expect(intent.envelope.data).toMatchObject({
        triggerKey: 'cart:cart-held',
        profile: { profileId: known, traits: { email: `${known}@example.com` } },
      });
      await timersDrained();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(intentsFor(known, 'cart-anonymous')).toHaveLength(1);
      expect(intentsFor(anonymous, 'cart-anonymous')).toEqual([]);
    });

    it('a merge waits for a wait of the merged profile that is firing, then moves the others', async () => {
      const { anonymous, known } = await anonymousCart('firing');
      await settled();
      const timers = mesh.service.app.get(CampaignTimers);
      const firing = await timers.tryHold(anonymous); // as a replica firing one of its waits
      const merged = mergeEnvelope('merge-firing', known, anonymous);
      await mesh.publisher.publish(SUBJECTS.identity.merged, merged);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await timers.mergedInto(anonymous)).toBeUndefined();
      await timers.letGo(anonymous, firing!);
      await waitFor(
        'the merge to mark the profile',
        async () => (await timers.mergedInto(anonymous)) === known,
      );
      await mergesSettled();
      expect(await timers.pendingFor(anonymous)).toEqual([]);
      expect(await timers.pendingFor(known)).toMatchObject([
        { profileId: known, campaignId: 'cart-anonymous', triggerKey: 'cart:cart-firing' },
      ]);
      mesh.clock.advance(31 * MINUTE);
      await mesh.tap.next(SUBJECTS.enrichment.triggered, (message) => message.envelope.profileId === known);
      await timersDrained();
      expect(intentsFor(anonymous, 'cart-anonymous')).toEqual([]);
    });

    it('a merge waits for a wait of the survivor that is firing, then moves the merged profile’s waits', async () => {
      const { anonymous, known } = await anonymousCart('survivor-firing');
      await settled();
      const timers = mesh.service.app.get(CampaignTimers);
      const firing = await timers.tryHold(known); // as a replica firing one of the survivor's waits
      await mesh.publisher.publish(
        SUBJECTS.identity.merged,
        mergeEnvelope('merge-survivor-firing', known, anonymous),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await timers.mergedInto(anonymous)).toBeUndefined();
      expect(await timers.pendingFor(anonymous)).toHaveLength(1);
      await timers.letGo(known, firing!);
      await waitFor(
        'the merge to mark the profile',
        async () => (await timers.mergedInto(anonymous)) === known,
      );
      await mergesSettled();
      expect(await timers.pendingFor(known)).toMatchObject([
        { profileId: known, campaignId: 'cart-anonymous', triggerKey: 'cart:cart-survivor-firing' },
      ]);
    });

    it('a wait due for a profile already merged away is re-keyed to the survivor, never sent for it', async () => {
      // The race: the merge has marked the profile but its waits are not moved yet when one is due.
      const { anonymous, known } = await anonymousCart('race');
      await settled();
      await mesh.service.app.get(CampaignTimers).markMerged([anonymous], known);
      mesh.clock.advance(31 * MINUTE);
      const intent = await mesh.tap.next<SendIntentPayload>(
        SUBJECTS.enrichment.triggered,
        (message) => message.envelope.profileId === known,
      );
      expect(intent.envelope.data).toMatchObject({
        triggerKey: 'cart:cart-race',
        profile: { profileId: known, traits: { email: `${known}@example.com` } },
      });
      await timersDrained();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(intentsFor(known, 'cart-anonymous')).toHaveLength(1);
      expect(intentsFor(anonymous, 'cart-anonymous')).toEqual([]);
    });
  });

  // Last: a stopped consumer's pull request may still hold messages published right after a restart
  // (they come back after the ack wait), and this test publishes nothing after its restart.
  it('a restart during the wait: still exactly one send', async () => {
    await publish(
      track('shopper-3', 'Product Added', { cart_id: 'cart-3', product_id: 'sku-3' }, withEmail('shopper-3')),
    );
    await waiting('shopper-3');
    const before = mesh.clock.now();
    await mesh.restart();
    // The new process's clock starts where the old one was (the test had moved that one forward).
    mesh.clock.advance(before - mesh.clock.now() + 31 * MINUTE);
    await mesh.tap.next(
      SUBJECTS.enrichment.triggered,
      (message) => message.envelope.profileId === 'shopper-3',
    );
    await timersDrained();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(intentsFor('shopper-3', 'cart-abandonment')).toHaveLength(1);
  }, 60_000);
});
