import { type ComputedAttributes, type RfmWindow } from '@mesh/contracts';
import { decay } from './profile-input.js';
import { type ProfileState } from './profile-model.js';
import { type ProfileSettings } from './profile-settings.js';

const DAY_MS = 86_400_000;
const TOP_CATEGORIES = 3;

const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** 5 when `value` is at or under the first threshold, down to 1 beyond the last. */
export function lowerIsBetter(value: number, thresholds: readonly number[]): number {
  const index = thresholds.findIndex((threshold) => value <= threshold);
  return index === -1 ? 1 : 5 - index;
}

/** 1 under the first threshold, up to 5 at or above the last. */
export function higherIsBetter(value: number, thresholds: readonly number[]): number {
  let score = 1;
  for (const threshold of thresholds) if (value >= threshold) score += 1;
  return score;
}

function topKeys(counts: Record<string, number>, limit: number): string[] {
  return Object.entries(counts)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, limit)
    .map(([key]) => key);
}

/** The computed attributes (names of libs/contracts ComputedAttributes) of a state at `now`. */
export function computeAttributes(
  state: ProfileState,
  now: number,
  settings: ProfileSettings,
): ComputedAttributes & { last_event?: { name: string; at: string } } {
  const computed: ComputedAttributes & { last_event?: { name: string; at: string } } = {};
  const nowIso = new Date(now).toISOString();
  if (state.lastSeenAt) computed.last_seen_at = state.lastSeenAt;
  if (state.lastEvent) computed.last_event = state.lastEvent;

  const kept = state.orders.filter((order) => !order.refunded);
  if (state.ordersCount > 0) {
    const sameCurrency = (currency: string | undefined) => !currency || currency === state.currency;
    const windowOf = (days: number): RfmWindow => {
      const windowStart = now - days * DAY_MS;
      const inWindow = kept.filter((order) => Date.parse(order.at) >= windowStart);
      const frequency = inWindow.length;
      const monetary = round(
        inWindow
          .filter((order) => sameCurrency(order.currency))
          .reduce((sum, order) => sum + order.revenue, 0),
      );
      return {
        days,
        frequency,
        monetary,
        f_score: higherIsBetter(frequency, settings.frequency),
        m_score: higherIsBetter(monetary, settings.monetary),
      };
    };
    const last = state.orders[state.orders.length - 1]!;
    const primary = windowOf(settings.rfmWindowDays);
    computed.recency_days = Math.max(0, Math.floor((now - Date.parse(last.at)) / DAY_MS));
    computed.frequency = primary.frequency;
    computed.monetary = primary.monetary;
    computed.rfm_window_days = settings.rfmWindowDays;
    if (settings.rfmWindows.length > 0)
      computed.rfm_windows = Object.fromEntries(
        settings.rfmWindows.map((days) => [`${days}d`, days === primary.days ? primary : windowOf(days)]),
      );
    computed.r_score = lowerIsBetter(computed.recency_days, settings.recencyDays);
    computed.f_score = primary.f_score;
    computed.m_score = primary.m_score;
    computed.lifetime_value = round(state.ltv);
    computed.orders_count = state.ordersCount;
    computed.first_order_at = state.orders[0]!.at;
    computed.last_order_at = last.at;
    if (state.currency) computed.currency = state.currency;
  }

  if (state.engagement) {
    computed.engagement_score = round(
      decay(state.engagement.score, state.engagement.at, nowIso, settings.engagementHalfLifeDays),
      3,
    );
  }
  if (state.lastOpenAt) computed.last_open_at = state.lastOpenAt;
  if (state.lastClickAt) computed.last_click_at = state.lastClickAt;

  const purchased = topKeys(state.purchasedCategories, 1)[0];
  if (purchased) computed.purchased_category = purchased;
  const viewed = topKeys(state.viewedCategories, TOP_CATEGORIES);
  if (viewed.length > 0) computed.top_viewed_categories = viewed;
  if (Object.keys(state.affinity).length > 0) {
    computed.category_affinity = Object.fromEntries(
      Object.entries(state.affinity).map(([category, weight]) => [
        category,
        round(decay(weight, state.affinityAt, nowIso, settings.affinityHalfLifeDays), 3),
      ]),
    );
  }
  if (state.lastViewed.length > 0) {
    computed.last_viewed_products = state.lastViewed.map(({ at: _at, ...product }) => product);
  }
  if (state.cart) computed.cart = state.cart;
  if (state.consent) computed.consent = state.consent;
  if (state.thirdParty) (computed as Record<string, unknown>).third_party = state.thirdParty;
  return computed;
}
