import { type CatalogProduct } from '../catalog/catalog.repository.js';

/** A deterministic pseudo-random generator (mulberry32), so generated histories repeat. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedEvent {
  profileId: string;
  event: 'Product Viewed' | 'Product Added' | 'Order Completed';
  at: number;
  productIds: string[];
}

export interface PlantedHistory {
  catalog: CatalogProduct[];
  /** Each planted product's partners: what bought-together should find. */
  partners: Map<string, string[]>;
  /** Products everyone looks at: what popularity finds. */
  popular: string[];
  events: GeneratedEvent[];
}

export interface PlantedOptions {
  seed?: number;
  pairs?: number;
  popular?: number;
  buyersPerPair?: number;
  viewsPerBuyer?: number;
  categories?: number;
  /** Events end at this instant and go back `spanMs`. */
  end?: number;
  spanMs?: number;
}

/**
 * An event history with planted co-purchase structure: products come in pairs bought together in
 * one order, while a few "popular" products get most views from everyone. Bought-together should
 * recover the pairs; popularity cannot.
 */
export function plantedHistory(options: PlantedOptions = {}): PlantedHistory {
  const next = random(options.seed ?? 42);
  const pairs = options.pairs ?? 10;
  const popularCount = options.popular ?? 10;
  const buyers = options.buyersPerPair ?? 5;
  const views = options.viewsPerBuyer ?? 8;
  const categories = options.categories ?? 4;
  const end = options.end ?? Date.now();
  const span = options.spanMs ?? 6 * 3600_000;
  const catalog: CatalogProduct[] = [];
  const product = (id: string, index: number): CatalogProduct => ({
    product_id: id,
    name: `Product ${id}`,
    category: `cat-${index % categories}`,
    price: 10 + ((index * 7) % 90),
    currency: 'EUR',
    stock: 10,
  });
  const partners = new Map<string, string[]>();
  for (let pair = 0; pair < pairs; pair++) {
    const a = `p${pair}a`;
    const b = `p${pair}b`;
    catalog.push(product(a, pair), product(b, pair + 1));
    partners.set(a, [b]);
    partners.set(b, [a]);
  }
  const popular = Array.from({ length: popularCount }, (_, i) => `hot${i}`);
  popular.forEach((id, i) => catalog.push(product(id, i)));

  const events: GeneratedEvent[] = [];
  let customer = 0;
  for (let pair = 0; pair < pairs; pair++) {
    for (let buyer = 0; buyer < buyers; buyer++) {
      const profileId = `buyer-${customer++}`;
      const start = end - span + Math.floor(next() * (span - 3600_000));
      for (let view = 0; view < views; view++) {
        events.push({
          profileId,
          event: 'Product Viewed',
          at: start + view * 60_000,
          productIds: [popular[Math.floor(next() * popular.length)]!],
        });
      }
      events.push({
        profileId,
        event: 'Order Completed',
        at: start + (views + 1) * 60_000,
        productIds: [`p${pair}a`, `p${pair}b`],
      });
    }
  }
  events.sort((x, y) => x.at - y.at || x.profileId.localeCompare(y.profileId));
  return { catalog, partners, popular, events };
}

/** precision@k and recall@k of one list against the relevant set. */
export function precisionRecall(
  recommended: readonly string[],
  relevant: ReadonlySet<string>,
  k: number,
): { precision: number; recall: number } {
  const hits = recommended.slice(0, k).filter((id) => relevant.has(id)).length;
  return { precision: hits / k, recall: relevant.size === 0 ? 0 : hits / relevant.size };
}
