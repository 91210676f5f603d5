import { type Envelope, type RenderedEmailPayload } from '@mesh/contracts';
import { REDIS } from '@mesh/storage';
import { readCollectionStats, readTopStatements, waitFor } from '@mesh/testing';
import { type Redis } from 'ioredis';
import { Clock } from '../src/clock.js';
import { DeferralsRepository } from '../src/deferrals/deferrals.repository.js';
import { ReleaseDeferredService } from '../src/deferrals/release-deferred.service.js';
import { ReconcileSendsService } from '../src/reconciliation/reconcile-sends.service.js';
import { SendLedgerRepository } from '../src/sending/send-ledger.repository.js';
import {
  campaignSpec,
  type DeliveryUnderTest,
  renderedEmail,
  sendKey,
  startDeliveryUnderTest,
} from './delivery-fixture.js';

const CAMPAIGN = campaignSpec('due-work');
const HOUR = 3_600_000;

/**
 * Due work (deferred sends, sends interrupted mid-SMTP) is found through Redis sorted sets, never by
 * a range over the store: a poll with nothing due reads nothing from MongoDB, and the store stays the
 * truth when Redis and MongoDB disagree (an entry without its send, a lost index).
 */
describe('delivery: due work', () => {
  let delivery: DeliveryUnderTest;
  let deferrals: DeferralsRepository;
  let ledger: SendLedgerRepository;
  let release: ReleaseDeferredService;
  let reconcile: ReconcileSendsService;
  let redis: Redis;
  let clock: Clock;

  beforeAll(async () => {
    delivery = await startDeliveryUnderTest({
      // The pollers run when the test says.
      env: { DELIVERY_DEFERRAL_POLL_MS: '600000', DELIVERY_RECONCILE_INTERVAL_MS: '3600000' },
    });
    const app = delivery.service.app;
    deferrals = app.get(DeferralsRepository);
    ledger = app.get(SendLedgerRepository);
    release = app.get(ReleaseDeferredService);
    reconcile = app.get(ReconcileSendsService);
    redis = app.get<Redis>(REDIS);
    clock = app.get(Clock);
    // The first polls find the indexes not built yet (a fresh Redis) and build them.
    await waitFor('both indexes to be built', async () => {
      await release.runOnce();
      await reconcile.runOnce();
      return (await redis.exists('{deferrals}:indexed', '{sends}:indexed')) === 2;
    });
  }, 60_000);
  afterAll(() => delivery?.close());
  afterEach(() => {
    clock.now = () => new Date();
  });

  /** Statements PostgreSQL ran on one collection's table so far (counted as they end). */
  const statementsOn = async (collection: string) => {
    const postgresUrl = delivery.infra.mongo!.postgresUrl;
    const table = (await readCollectionStats(postgresUrl)).find(
      (stats) => stats.collection === `${delivery.db.databaseName}.${collection}`,
    )?.table;
    if (!table) return 0;
    const name = table.split('.')[1]!;
    return (await readTopStatements(postgresUrl, 10_000))
      .filter((statement) => statement.query.includes(name))
      .reduce((sum, statement) => sum + statement.calls, 0);
  };
  const deferQuietHours = (input: Envelope<RenderedEmailPayload>, dueAt: Date) =>
    deferrals.defer({ key: sendKey(input), envelope: input, dueAt, priority: 0, reason: 'quiet_hours' });
  const dueMembers = () => redis.zrange('{deferrals}:due', 0, -1);

  it('polls with nothing due read nothing from the store, however many sends wait', async () => {
    const waiting = Array.from({ length: 20 }, (_, i) => renderedEmail(`p-later-${i}`, CAMPAIGN));
    for (const input of waiting) await deferQuietHours(input, new Date(Date.now() + HOUR));
    const claimed = renderedEmail('p-in-flight', CAMPAIGN);
    await ledger.claim({
      key: sendKey(claimed),
      campaignId: CAMPAIGN.campaignId,
      templateId: CAMPAIGN.templateId,
      profileId: 'p-in-flight',
      triggerKey: claimed.data.triggerKey,
      to: claimed.data.to,
      smtpMessageId: `<${sendKey(claimed)}@personalization-mesh>`,
      messageId: claimed.id,
    });

    const before = [await statementsOn('deferred_sends'), await statementsOn('sends')];
    // The counters see the writes above: a read by a poll would show.
    expect(Math.min(...before)).toBeGreaterThan(0);
    for (let poll = 0; poll < 5; poll++) {
      await release.runOnce();
      // The send just claimed is not stale: it may still be in its SMTP call.
      expect(await reconcile.runOnce()).toBe(0);
    }
    expect([await statementsOn('deferred_sends'), await statementsOn('sends')]).toEqual(before);

    // Once due, the poll releases them.
    clock.now = () => new Date(Date.now() + HOUR + 1_000);
    await release.runOnce();
    for (const input of waiting) expect(delivery.emailsTo(input.data.to)).toHaveLength(1);
    expect(await delivery.db.collection('deferred_sends').countDocuments({})).toBe(0);
    expect(await dueMembers()).toEqual([]);
  });

  it('a send that is not yet due in the store waits however early its index entry says it is due', async () => {
    const input = renderedEmail('p-early-entry', CAMPAIGN);
    const dueAt = new Date(Date.now() + HOUR);
    await deferQuietHours(input, dueAt);
    // As a duplicate's (or a stale) entry would: due now.
    const [entry] = await redis.zrange('{deferrals}:due', 0, -1);
    await redis.zadd('{deferrals}:due', Date.now() - 1_000, entry!);

    await release.runOnce();
    expect(delivery.emailsTo(input.data.to)).toHaveLength(0);
    expect(Number(await redis.zscore('{deferrals}:due', entry!))).toBe(dueAt.getTime());
    clock.now = () => new Date(dueAt.getTime() + 1_000);
    await release.runOnce();
    expect(delivery.emailsTo(input.data.to)).toHaveLength(1);
  });

  it('an index entry whose send never reached the store (a crash in between) is dropped without effect', async () => {
    const input = renderedEmail('p-never-stored', CAMPAIGN);
    // What a deferral leaves when the process dies between the index and the store.
    await redis.zadd('{deferrals}:due', Date.now() - 1_000, `${sendKey(input)}\u001fp-never-stored`);
    await release.runOnce();
    expect(await dueMembers()).toEqual([]);
    expect(delivery.emailsTo(input.data.to)).toHaveLength(0);
  });

  it('deferred sends are released after Redis lost the index: it is rebuilt from the store', async () => {
    const inputs = Array.from({ length: 3 }, (_, i) => renderedEmail(`p-index-lost-${i}`, CAMPAIGN));
    for (const input of inputs) await deferQuietHours(input, new Date(Date.now() + HOUR));
    await redis.del('{deferrals}:due', '{deferrals}:indexed');

    clock.now = () => new Date(Date.now() + HOUR + 1_000);
    await waitFor('the deferred sends to be released', async () => {
      await release.runOnce();
      return inputs.every((input) => delivery.emailsTo(input.data.to).length === 1);
    });
    expect(await delivery.db.collection('deferred_sends').countDocuments({})).toBe(0);
  });

  it('a send interrupted mid-SMTP is marked for review, also after Redis lost the index', async () => {
    const claimOf = (input: Envelope<RenderedEmailPayload>) => ({
      key: sendKey(input),
      campaignId: CAMPAIGN.campaignId,
      templateId: CAMPAIGN.templateId,
      profileId: input.profileId!,
      triggerKey: input.data.triggerKey,
      to: input.data.to,
      smtpMessageId: `<${sendKey(input)}@personalization-mesh>`,
      messageId: input.id,
    });
    const interrupted = renderedEmail('p-interrupted', CAMPAIGN);
    const settled = renderedEmail('p-settled', CAMPAIGN);
    await ledger.claim(claimOf(interrupted));
    await ledger.claim(claimOf(settled));
    await ledger.settle(sendKey(settled), 'sent');
    await redis.del('{sends}:sending', '{sends}:indexed');

    const later = new Date(Date.now() + 1_000);
    // The pass that finds the index gone starts its rebuild; the next one finds the send.
    expect(await ledger.markStaleForReview(later)).toBe(0);
    await waitFor('the index to be rebuilt', async () => (await redis.exists('{sends}:indexed')) === 1);
    expect(await ledger.markStaleForReview(later)).toBeGreaterThanOrEqual(1);
    expect(await delivery.ledger(sendKey(interrupted))).toMatchObject({ status: 'needs_review' });
    expect(await delivery.ledger(sendKey(settled))).toMatchObject({ status: 'sent' });
    expect(await redis.zrange('{sends}:sending', 0, -1)).toEqual([]);
  });
});
