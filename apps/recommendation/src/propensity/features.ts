import { type ComputedAttributes } from '@mesh/contracts';

/** The features of the propensity model, in vector order. */
export const FEATURE_NAMES = [
  'recency_days',
  'frequency',
  'monetary',
  'orders_count',
  'lifetime_value',
  'engagement_score',
  'r_score',
  'f_score',
  'm_score',
  'cart_items',
  'cart_value',
  'days_since_seen',
  'top_affinity',
  'affinity_categories',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
export type Features = Record<FeatureName, number>;

const DAY_MS = 24 * 3600_000;
const num = (value: unknown, otherwise = 0) =>
  typeof value === 'number' && Number.isFinite(value) ? value : otherwise;
const daysSince = (iso: unknown, at: number, otherwise: number) => {
  const time = typeof iso === 'string' ? Date.parse(iso) : NaN;
  return Number.isFinite(time) ? Math.max(0, (at - time) / DAY_MS) : otherwise;
};

/** Features from the computed attributes enrichment keeps (ComputedAttributes), as of `at`. */
export function featuresOf(computed: ComputedAttributes, at: number): Features {
  const affinity = Object.values(computed.category_affinity ?? {}).filter((v) => typeof v === 'number');
  return {
    recency_days: Math.min(num(computed.recency_days, 365), 365),
    frequency: num(computed.frequency),
    monetary: num(computed.monetary),
    orders_count: num(computed.orders_count),
    lifetime_value: num(computed.lifetime_value),
    engagement_score: num(computed.engagement_score),
    r_score: num(computed.r_score),
    f_score: num(computed.f_score),
    m_score: num(computed.m_score),
    cart_items: computed.cart?.items?.length ?? 0,
    cart_value: num(computed.cart?.value),
    days_since_seen: Math.min(daysSince(computed.last_seen_at, at, 365), 365),
    top_affinity: affinity.length === 0 ? 0 : Math.max(...affinity),
    affinity_categories: affinity.length,
  };
}

export const vectorOf = (features: Features, names: readonly FeatureName[] = FEATURE_NAMES): number[] =>
  names.map((name) => features[name] ?? 0);

/** Engagement tier for the bias report. */
export function engagementTier(features: Features): string {
  if (features.engagement_score <= 0) return 'none';
  return features.engagement_score < 1 ? 'low' : 'high';
}
