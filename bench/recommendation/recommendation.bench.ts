import { originEnvelope, type SendIntentPayload, SUBJECTS } from '@mesh/contracts';
import { startServiceUnderTest } from '@mesh/testing';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { random } from '../../apps/recommendation/src/evaluation/planted-history.js';
import { plantedProfiles } from '../../apps/recommendation/src/evaluation/planted-profiles.js';
import { featuresOf } from '../../apps/recommendation/src/propensity/features.js';
import { LatestFeatures } from '../../apps/recommendation/src/propensity/latest-features.js';
import { TrainPropensityUseCase } from '../../apps/recommendation/src/propensity/train-propensity.usecase.js';
import { recommendationSpec } from '../../apps/recommendation/src/recommendation.app.js';
import { EVENT_WEIGHTS, SignalStore } from '../../apps/recommendation/src/signals/signal-store.js';
import { percentiles, windowed } from '../messaging/bench-stats.js';

// Recommendations per second and p99 over the API and the attach path, against bare Redis ZREVRANGE
// round trips in the same run; then the propensity training time. The history is written straight
// into Redis/MongoDB (same code as the consumer's) so seeding is fast.
// Usage: npm run bench -- recommendation [-- <products> <events> <requests> <profiles for training>]
const PRODUCTS = Number(process.argv[2] ?? process.env.BENCH_PRODUCTS ?? 50_000);
const EVENTS = Number(process.argv[3] ?? process.env.BENCH_EVENTS ?? 1_000_000);
const REQUESTS = Number(process.argv[4] ?? process.env.BENCH_REQUESTS ?? 5_000);
const TRAIN_PROFILES = Number(process.argv[5] ?? process.env.BENCH_TRAIN_PROFILES ?? 100_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const PROFILES = Math.max(1, Math.floor(EVENTS / 10));
const TOKEN = 'recommendation-test-admin-token';
const CATEGORIES = 50;

interface Measured {
  name: string;
  perSecond: number;
  p50: number;
  p99: number;
}

async function measure(name: string, total: number, task: (i: number) => Promise<void>): Promise<Measured> {
  const latencies: number[] = [];
  const started = performance.now();
  await windowed(total, CONCURRENCY, async (i) => {
    const t = performance.now();
    await task(i);
    latencies.push(performance.now() - t);
  });
  const seconds = (performance.now() - started) / 1000;
  const { p50, p99 } = percentiles(latencies);
  const measured = { name, perSecond: total / seconds, p50, p99 };
  console.log(row(measured));
  return measured;
}

const row = (m: Measured) =>
  `${m.name.padEnd(44)} ${m.perSecond.toFixed(0).padStart(8)} /s   p50 ${m.p50.toFixed(2).padStart(7)} ms   p99 ${m.p99.toFixed(2).padStart(7)} ms`;

const under = await startServiceUnderTest({
  name: 'recommendation',
  spec: (env) => recommendationSpec({ ...env, PROPENSITY_TRAIN_EVERY_MINUTES: '0' }),
  redis: true,
});
const redis = new Redis(under.redisUrl!);
const prefixed = new Redis(under.redisUrl!, { keyPrefix: 'recommendation:' });
const nc = await connect({ servers: under.natsUrl });
try {
  const next = random(1);
  // Zipf-like product choice: a few products get most events.
  const product = () => `sku-${Math.floor(PRODUCTS * next() ** 3)}`;
  const category = (id: string) => `cat-${Number(id.slice(4)) % CATEGORIES}`;
  let t = performance.now();
  const products = Array.from({ length: PRODUCTS }, (_, i) => ({
    _id: `sku-${i}`,
    name: `Product ${i}`,
    category: `cat-${i % CATEGORIES}`,
    price: 5 + (i % 200),
    currency: 'EUR',
    stock: i % 20 === 0 ? 0 : 10,
    updatedAt: new Date(),
    schemaVersion: 1,
  }));
  for (let i = 0; i < products.length; i += 5_000)
    await under.db.collection('products').insertMany(products.slice(i, i + 5_000) as never[]);
  console.log(`seeded ${PRODUCTS} products in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  t = performance.now();
  const store = new SignalStore(prefixed);
  const names = Object.keys(EVENT_WEIGHTS);
  const now = Date.now();
  await windowed(EVENTS, 256, async (i) => {
    const profile = i % PROFILES;
    const event = names[next() < 0.7 ? 0 : next() < 0.6 ? 1 : 2]!;
    const ids = event === 'Order Completed' ? [product(), product()] : [product()];
    await store.record({
      messageId: `bench-${i}`,
      profileId: `profile-${profile}`,
      at: now - (EVENTS - i) * 1000,
      weight: EVENT_WEIGHTS[event]!,
      purchase: event === 'Order Completed',
      products: ids.map((id) => ({ id, category: category(id) })),
    });
  });
  const memory = /used_memory_human:(\S+)/.exec(await redis.info('memory'))?.[1];
  const keys = await redis.dbsize();
  console.log(
    `seeded ${EVENTS} events of ${PROFILES} profiles into the Redis signals in ${((performance.now() - t) / 1000).toFixed(1)} s (Redis: ${keys} keys, ${memory})`,
  );

  const api = async (body: unknown) => {
    const response = await fetch(`${under.service.url}/api/recommendations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
    if (response.status !== 200) throw new Error(`API answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  };
  // Warm up every path.
  for (let i = 0; i < 200; i++) {
    await prefixed.zrevrange('pop', 0, 9);
    await api({ customer_id: `profile-${i}`, strategy: 'personal', count: 10 });
  }

  const baseline = await measure('bare Redis ZREVRANGE pop 0 9', REQUESTS, async () => {
    await prefixed.zrevrange('pop', 0, 9);
  });
  const popular = await measure('API popular (10 items)', REQUESTS, (i) =>
    api({ customer_id: `profile-${i % PROFILES}`, strategy: 'popular', count: 10 }),
  );
  const together = await measure('API bought_together (cart of 1, 10 items)', REQUESTS, (i) =>
    api({
      customer_id: `profile-${i % PROFILES}`,
      strategy: 'bought_together',
      context: { cart: [product()] },
      count: 10,
    }),
  );
  const personal = await measure('API personal (10 items)', REQUESTS, (i) =>
    api({ customer_id: `profile-${i % PROFILES}`, strategy: 'personal', count: 10 }),
  );

  // The attach path: enrichment.triggered in, recommendation.attached out, timed per message.
  const pending = new Map<string, (value: void) => void>();
  const subscription = nc.subscribe(SUBJECTS.recommendation.attached, {
    callback: (_error, message) => {
      const { causationId } = message.json<{ causationId: string }>();
      pending.get(causationId)?.();
    },
  });
  const attach = await measure('attach path (bought_together, 10 items)', REQUESTS, async (i) => {
    const profileId = `profile-${i % PROFILES}`;
    const intent = originEnvelope<SendIntentPayload>({
      type: 'campaign.triggered',
      source: 'bench',
      occurredAt: new Date().toISOString(),
      profileId,
      data: {
        campaign: {
          campaignId: 'bench',
          name: 'Bench',
          templateId: 'bench',
          recommendation: { strategy: 'bought_together', limit: 10 },
          sendPolicy: { maxPerDay: 0, transactional: false },
        },
        triggerKey: `bench:${i}`,
        trigger: { event: 'Product Added', properties: { product_id: product() } },
        profile: { profileId, traits: {}, computed: {}, version: 1 },
      },
    });
    const done = new Promise<void>((resolve) => pending.set(intent.id, resolve));
    await under.publisher.publish(SUBJECTS.enrichment.triggered, intent);
    await done;
    pending.delete(intent.id);
  });

  for (const m of [popular, together, personal, attach])
    console.log(
      `ratio ${m.name} ÷ bare ZREVRANGE: rate ${(m.perSecond / baseline.perSecond).toFixed(3)}×, p99 ${(m.p99 / baseline.p99).toFixed(1)}×`,
    );

  // Training: feature rows and purchases of TRAIN_PROFILES profiles written straight to MongoDB.
  t = performance.now();
  const end = Date.UTC(2026, 9, 1);
  const planted = plantedProfiles({ n: TRAIN_PROFILES, end });
  const rows = planted.snapshots.map((s) => ({
    _id: `${s.profileId}:${Math.floor(s.at / 86_400_000)}`,
    profileId: s.profileId,
    at: new Date(s.at),
    features: featuresOf(s.computed, s.at),
    country: s.country,
    schemaVersion: 1,
  }));
  for (let i = 0; i < rows.length; i += 5_000)
    await under.db.collection('feature_rows').insertMany(rows.slice(i, i + 5_000) as never[]);
  const purchases = planted.purchases.map((p, i) => ({
    _id: `bench-purchase-${i}`,
    profileId: p.profileId,
    at: new Date(p.at),
  }));
  for (let i = 0; i < purchases.length; i += 5_000)
    await under.db.collection('purchases').insertMany(purchases.slice(i, i + 5_000) as never[]);
  console.log(
    `seeded ${TRAIN_PROFILES} profiles' features in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  // The attach path reads each profile's newest features from Redis (kept by the profile.updated handler).
  await new LatestFeatures(prefixed).saveMany(
    rows.map((r) => ({ profileId: r.profileId, at: r.at, features: r.features })),
  );

  // Peak memory of this process (the service runs in it) while training, sampled every 50 ms.
  const peak = { rss: 0, heap: 0 };
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peak.rss = Math.max(peak.rss, usage.rss);
    peak.heap = Math.max(peak.heap, usage.heapUsed);
  }, 50);
  const before = process.memoryUsage();
  t = performance.now();
  const trained = await fetch(`${under.service.url}/api/propensity/train`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ as_of: new Date(end).toISOString() }),
  });
  const model = (await trained.json()) as {
    trainingMs: number;
    trainRows: number;
    sampleRows: number;
    metrics: object;
  };
  clearInterval(sampler);
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  console.log(
    `training on ${TRAIN_PROFILES} profiles: ${(performance.now() - t).toFixed(0)} ms over the API ` +
      `(${model.trainingMs} ms in the service: ${model.trainRows} training rows, forest fit on ${model.sampleRows}); ` +
      `memory before rss ${mb(before.rss)} heap ${mb(before.heapUsed)}, peak rss ${mb(peak.rss)} heap ${mb(peak.heap)}; holdout`,
    model.metrics,
  );

  // The sampling rule's effect on AUC: the forest fit on more rows per class (same holdout).
  const trainer = under.service.app.get(TrainPropensityUseCase);
  for (const samplePerClass of (process.env.BENCH_SAMPLES ?? '150,1000').split(',').map(Number)) {
    const started = performance.now();
    const result = await trainer.execute({ now: end, samplePerClass });
    console.log(
      `training with ≤${samplePerClass} rows per class: ${(performance.now() - started).toFixed(0)} ms, ` +
        `fit on ${result.sampleRows}; holdout AUC ${result.metrics.auc}, precision ${result.metrics.precision}, recall ${result.metrics.recall}`,
    );
  }

  // The attach path again, now with a promoted model scoring each profile.
  const scored = await measure('attach path + propensity (bought_together)', REQUESTS, async (i) => {
    const profileId = planted.snapshots[i % planted.snapshots.length]!.profileId;
    const intent = originEnvelope<SendIntentPayload>({
      type: 'campaign.triggered',
      source: 'bench',
      occurredAt: new Date().toISOString(),
      profileId,
      data: {
        campaign: {
          campaignId: 'bench',
          name: 'Bench',
          templateId: 'bench',
          recommendation: { strategy: 'bought_together', limit: 10 },
          sendPolicy: { maxPerDay: 0, transactional: false },
        },
        triggerKey: `bench-scored:${i}`,
        trigger: { event: 'Product Added', properties: { product_id: product() } },
        profile: { profileId, traits: {}, computed: {}, version: 1 },
      },
    });
    const done = new Promise<void>((resolve) => pending.set(intent.id, resolve));
    await under.publisher.publish(SUBJECTS.enrichment.triggered, intent);
    await done;
    pending.delete(intent.id);
  });
  console.log(
    `ratio ${scored.name} ÷ bare ZREVRANGE: rate ${(scored.perSecond / baseline.perSecond).toFixed(3)}×, p99 ${(scored.p99 / baseline.p99).toFixed(1)}×`,
  );
  subscription.unsubscribe();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  nc.close().catch(() => undefined);
  redis.disconnect();
  prefixed.disconnect();
  await under.close();
}
