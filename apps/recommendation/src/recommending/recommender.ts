import { Injectable } from '@nestjs/common';
import {
  type RecommendationsDto,
  type RecommendationStrategy,
  type RecommendedItemDto,
} from '@mesh/contracts';
import { type CatalogProduct, CatalogRepository } from '../catalog/catalog.repository.js';
import { type Scored, SignalStore } from '../signals/signal-store.js';

export interface RecommendRequest {
  strategy: RecommendationStrategy;
  limit: number;
  profileId?: string;
  /** Only this category (trending: the category to trend in). */
  category?: string;
  /** Products in hand (cart, the product just viewed): bought-together seeds, never recommended. */
  inHand?: readonly string[];
  /** Recently browsed products the caller knows of, newest first (personal seeds). */
  browsed?: readonly string[];
  /** Purchases the caller knows of, besides those of the stream: never recommended. */
  purchased?: readonly string[];
  minPrice?: number;
  maxPrice?: number;
  /** Diversity: at most this many items of one category. */
  maxPerCategory?: number;
  now?: number;
}

interface Candidate {
  id: string;
  score: number;
  reason: string;
}

const SEEDS = 20;
const NEIGHBOURS = 100;
const DAY_MS = 24 * 3600_000;
/** A personal seed counts half as much for every week since the person touched it. */
const SEED_HALF_LIFE_MS = 7 * DAY_MS;
export const DEFAULT_MAX_PER_CATEGORY = 3;

/**
 * The strategies: bought-together (co-occurrence with the products in hand), personal (co-occurrence
 * with the person's recent history), trending (last 24 h), popular (decayed, the cold-start
 * fallback); then the business rules. A strategy short of items is topped up by popular, and says so.
 */
@Injectable()
export class Recommender {
  constructor(
    private readonly signals: SignalStore,
    private readonly catalog: CatalogRepository,
  ) {}

  async recommend(request: RecommendRequest): Promise<RecommendationsDto> {
    const { strategy, limit } = request;
    if (strategy === 'none' || limit === 0) return { strategy, items: [] };
    const now = request.now ?? Date.now();
    const history = request.profileId ? await this.signals.history(request.profileId) : [];
    const purchased = new Set([
      ...(request.profileId ? await this.signals.purchased(request.profileId) : []),
      ...(request.purchased ?? []),
    ]);
    const excluded = new Set([...purchased, ...(request.inHand ?? [])]);
    const wanted = limit * 5 + 20;

    let primary: Candidate[] = [];
    let shortOf = '';
    switch (strategy) {
      case 'bought_together': {
        const seeds = (request.inHand ?? []).map((id) => ({ id, weight: 1 }));
        if (seeds.length === 0) shortOf = 'no products in hand to pair with';
        primary = await this.neighbours(seeds, 'bought_together');
        break;
      }
      case 'personal': {
        const seeds = [
          ...(request.browsed ?? []).map((id) => ({ id, weight: 1 })),
          ...[...purchased].map((id) => ({ id, weight: 5 })),
          ...history.map(({ id, at, weight }) => ({
            id,
            weight: weight * 0.5 ** ((now - at) / SEED_HALF_LIFE_MS),
          })),
        ];
        if (seeds.length === 0) shortOf = 'no history for this profile';
        primary = await this.neighbours(seeds, 'personal');
        break;
      }
      case 'trending':
        primary = tag(
          await this.signals.trending(wanted, now, request.category),
          reasonIn('trending', request.category),
        );
        break;
      case 'popular':
        break;
    }
    const popular = async () =>
      tag(await this.signals.popular(wanted, request.category), reasonIn('popular', request.category));

    const chosen = await this.applyRules(
      strategy === 'popular' ? await popular() : primary,
      request,
      excluded,
      limit,
    );
    if (chosen.length >= limit || (strategy === 'popular' && chosen.length > 0))
      return { strategy, items: chosen };
    // Never an empty list without saying why.
    if (strategy === 'popular')
      return { strategy, fallback: true, fallbackReason: 'no popular items yet (no signals)', items: [] };

    const topUp = await this.applyRules(
      await popular(),
      request,
      new Set([...excluded, ...chosen.map((item) => item.product_id)]),
      limit,
      chosen,
    );
    const items = [...chosen, ...topUp].slice(0, limit);
    const reason =
      shortOf ||
      (chosen.length === 0
        ? `no ${strategy} signals yet`
        : `${strategy} found ${chosen.length} of ${limit} items`);
    return {
      strategy,
      ...(chosen.length === 0 ? { servedBy: 'popular' as const } : {}),
      fallback: true,
      fallbackReason:
        items.length === 0 ? `${reason}; no popular items either` : `${reason}; filled with popular`,
      items,
    };
  }

  /** Co-occurrence neighbours of the seeds, each seed's list weighted; the strongest seed is the reason. */
  private async neighbours(
    seeds: readonly { id: string; weight: number }[],
    label: string,
  ): Promise<Candidate[]> {
    const strongest = new Map<string, number>();
    for (const seed of seeds) strongest.set(seed.id, Math.max(strongest.get(seed.id) ?? 0, seed.weight));
    const top = [...strongest].sort((a, b) => b[1] - a[1]).slice(0, SEEDS);
    const lists = await Promise.all(top.map(([id]) => this.signals.together(id, NEIGHBOURS)));
    const scores = new Map<string, { score: number; best: number; because: string }>();
    top.forEach(([seed, weight], index) => {
      const list = lists[index]!;
      const norm = list[0]?.score ?? 1;
      for (const { id, score } of list) {
        const contribution = (weight * score) / norm;
        const entry = scores.get(id) ?? { score: 0, best: 0, because: seed };
        entry.score += contribution;
        if (contribution > entry.best) Object.assign(entry, { best: contribution, because: seed });
        scores.set(id, entry);
      }
    });
    return [...scores]
      .map(([id, { score, because }]) => ({ id, score, reason: `${label}:${because}` }))
      .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
  }

  /** In stock, not excluded, in the price band and category, at most N per category. */
  private async applyRules(
    candidates: readonly Candidate[],
    request: RecommendRequest,
    excluded: ReadonlySet<string>,
    limit: number,
    already: readonly RecommendedItemDto[] = [],
  ): Promise<RecommendedItemDto[]> {
    const open = candidates.filter((candidate) => !excluded.has(candidate.id));
    const perCategory = new Map<string, number>();
    for (const item of already)
      if (item.category) perCategory.set(item.category, (perCategory.get(item.category) ?? 0) + 1);
    const maxPerCategory = request.maxPerCategory ?? DEFAULT_MAX_PER_CATEGORY;
    const items: RecommendedItemDto[] = [];
    // The catalog is read a page of candidates at a time: most answers need only the first page.
    const page = Math.max(limit * 4, 40);
    for (let start = 0; start < open.length && items.length + already.length < limit; start += page) {
      const slice = open.slice(start, start + page);
      const products = new Map(
        (await this.catalog.find(slice.map((c) => c.id))).map((p) => [p.product_id, p]),
      );
      for (const candidate of slice) {
        if (items.length + already.length >= limit) break;
        const product = products.get(candidate.id);
        if (!product || !sellable(product, request)) continue;
        if (product.category) {
          const count = perCategory.get(product.category) ?? 0;
          if (count >= maxPerCategory) continue;
          perCategory.set(product.category, count + 1);
        }
        const { stock: _stock, ...fields } = product;
        items.push({ ...fields, score: round(candidate.score), reason: candidate.reason });
      }
    }
    return items;
  }
}

function sellable(product: CatalogProduct, request: RecommendRequest): boolean {
  if (product.stock !== undefined && product.stock <= 0) return false;
  if (request.category !== undefined && product.category !== request.category) return false;
  if (request.minPrice !== undefined && (product.price === undefined || product.price < request.minPrice))
    return false;
  if (request.maxPrice !== undefined && (product.price === undefined || product.price > request.maxPrice))
    return false;
  return true;
}

const reasonIn = (label: string, category?: string) =>
  category === undefined ? label : `${label}:${category}`;
const tag = (scored: readonly Scored[], reason: string): Candidate[] =>
  scored.map(({ id, score }) => ({ id, score, reason }));
const round = (value: number) => Math.round(value * 1e6) / 1e6;
