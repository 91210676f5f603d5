import { randomUUID } from 'node:crypto';
import { type Envelope, type RecommendationStrategy, type ResolvedTrackPayload } from '@mesh/contracts';
import { type NatsConnection } from '@nats-io/transport-node';
import { type Redis } from 'ioredis';
import { type Db } from 'mongodb';
import { ChangeNotices } from '@mesh/storage';
import { CatalogRepository } from '../catalog/catalog.repository.js';
import { interactionOf, LearnFromEventUseCase } from '../catalog/learn-from-event.usecase.js';
import { Recommender } from '../recommending/recommender.js';
import { SignalStore } from '../signals/signal-store.js';
import { readTrackHistory } from '../signals/track-history.js';
import { precisionRecall } from './planted-history.js';

export interface StrategyScore {
  strategy: RecommendationStrategy;
  cases: number;
  precisionAtK: number;
  recallAtK: number;
  /** Share of cases answered (partly) by the popular fallback. */
  fallbackRate: number;
}

export interface StrategyEvaluation {
  k: number;
  events: number;
  holdoutFrom: string;
  strategies: StrategyScore[];
  durationMs: number;
}

const STRATEGIES: RecommendationStrategy[] = ['bought_together', 'personal', 'trending', 'popular'];

/**
 * Offline precision@k / recall@k of each strategy on a time split of the event history: signals are
 * built in a scratch Redis namespace from the events before the cut, then each later order is a case.
 * bought_together: the order's first product in hand, the rest relevant; the others: the person's
 * history before the cut, every product of their later orders relevant.
 */
export async function evaluateStrategies(
  nc: NatsConnection,
  redis: Redis,
  db: Db,
  options: { k?: number; holdoutShare?: number; maxCases?: number } = {},
): Promise<StrategyEvaluation> {
  const started = Date.now();
  const k = options.k ?? 5;
  const events: Envelope<ResolvedTrackPayload>[] = [];
  await readTrackHistory(nc, (envelope) => {
    if (interactionOf(envelope)) events.push(envelope);
    return Promise.resolve();
  });
  events.sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
  const cutIndex = Math.floor(events.length * (1 - (options.holdoutShare ?? 0.2)));
  const cut = events[cutIndex] ? Date.parse(events[cutIndex].occurredAt) : Date.now();

  const scratch = redis.duplicate({ keyPrefix: `${redis.options.keyPrefix ?? ''}eval:${randomUUID()}:` });
  const signals = new SignalStore(scratch);
  // Products it learns are the live catalog's: the services are told (no listening here).
  const catalog = new CatalogRepository(db, new ChangeNotices(redis));
  const learn = new LearnFromEventUseCase(catalog, signals);
  try {
    for (const envelope of events.slice(0, cutIndex)) await learn.execute(envelope);
    const known = new Set(events.slice(0, cutIndex).map((e) => e.profileId));
    const later = new Map<string, Set<string>>();
    const orders: string[][] = [];
    for (const envelope of events.slice(cutIndex)) {
      const interaction = interactionOf(envelope)!;
      if (!interaction.purchase) continue;
      const products = interaction.products.map((p) => p.id);
      if (products.length >= 2) orders.push(products);
      if (interaction.profileId && known.has(interaction.profileId)) {
        const bought = later.get(interaction.profileId) ?? new Set();
        products.forEach((id) => bought.add(id));
        later.set(interaction.profileId, bought);
      }
    }
    const recommender = new Recommender(signals, catalog);
    const maxCases = options.maxCases ?? 500;
    const strategies: StrategyScore[] = [];
    for (const strategy of STRATEGIES) {
      const cases =
        strategy === 'bought_together'
          ? orders.slice(0, maxCases).map(([first, ...rest]) => ({
              profileId: undefined,
              inHand: [first!],
              relevant: new Set(rest),
            }))
          : [...later]
              .slice(0, maxCases)
              .map(([profileId, relevant]) => ({ profileId, inHand: [], relevant }));
      let precision = 0;
      let recall = 0;
      let fallbacks = 0;
      for (const testCase of cases) {
        const answer = await recommender.recommend({
          strategy,
          limit: k,
          profileId: testCase.profileId,
          inHand: testCase.inHand,
          now: cut,
        });
        const scored = precisionRecall(
          answer.items.map((item) => item.product_id),
          testCase.relevant,
          k,
        );
        precision += scored.precision;
        recall += scored.recall;
        if (answer.fallback) fallbacks++;
      }
      const n = Math.max(cases.length, 1);
      strategies.push({
        strategy,
        cases: cases.length,
        precisionAtK: round(precision / n),
        recallAtK: round(recall / n),
        fallbackRate: round(fallbacks / n),
      });
    }
    return {
      k,
      events: events.length,
      holdoutFrom: new Date(cut).toISOString(),
      strategies,
      durationMs: Date.now() - started,
    };
  } finally {
    await signals.clear();
    scratch.disconnect();
  }
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;
