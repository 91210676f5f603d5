import { type ComputedAttributes } from '@mesh/contracts';
import { random } from './planted-history.js';

export interface PlantedSnapshot {
  profileId: string;
  at: number;
  computed: ComputedAttributes;
  country: string;
}

export interface PlantedProfiles {
  snapshots: PlantedSnapshot[];
  purchases: { profileId: string; at: number; productId: string }[];
}

const DAY_MS = 24 * 3600_000;

/**
 * Profiles whose purchase in the next 14 days depends on frequency, engagement and cart (planted
 * logistic odds), except in country `noisy`, where buying is a coin toss: a model can rank the
 * others and not that segment, which the bias report should flag. `last_seen_at` is pure noise.
 */
export function plantedProfiles(options: {
  n: number;
  seed?: number;
  end: number;
  noisy?: string;
}): PlantedProfiles {
  const next = random(options.seed ?? 11);
  const noisy = options.noisy ?? 'FR';
  const snapshots: PlantedSnapshot[] = [];
  const purchases: PlantedProfiles['purchases'] = [];
  for (let i = 0; i < options.n; i++) {
    const profileId = `prof-${i}`;
    const at = options.end - 15 * DAY_MS - Math.floor(next() * 60 * DAY_MS);
    const frequency = Math.floor(next() * 6);
    const engagement = Math.round(next() * 200) / 100;
    const cartItems = next() < 0.3 ? 1 + Math.floor(next() * 3) : 0;
    const country = next() < 0.25 ? noisy : 'DE';
    const odds = -3.5 + 0.7 * frequency + 1.2 * engagement + 1.0 * cartItems;
    const buys = country === noisy ? next() < 0.4 : next() < 1 / (1 + Math.exp(-odds));
    snapshots.push({
      profileId,
      at,
      country,
      computed: {
        frequency,
        orders_count: frequency,
        monetary: frequency * 40,
        engagement_score: engagement,
        last_seen_at: new Date(at - Math.floor(next() * 30 * DAY_MS)).toISOString(),
        ...(cartItems > 0
          ? {
              cart: {
                items: Array.from({ length: cartItems }, (_, k) => ({ product_id: `sku-${k}` })),
                value: cartItems * 30,
                updated_at: new Date(at).toISOString(),
              },
            }
          : {}),
      },
    });
    if (buys)
      purchases.push({ profileId, at: at + DAY_MS + Math.floor(next() * 12 * DAY_MS), productId: 'sku-0' });
    // Some buy again much later: outside the horizon, not a label.
    else if (next() < 0.2) purchases.push({ profileId, at: at + 40 * DAY_MS, productId: 'sku-1' });
  }
  return { snapshots, purchases };
}
