import { decay } from '../profiles/profile-input.js';
import { type ProfileModel, type ProfileState } from '../profiles/profile-model.js';
import { type ProfileSettings } from '../profiles/profile-settings.js';

const LAST_VIEWED_KEPT = 10;
const time = (iso: string | undefined) => (iso === undefined ? Number.NEGATIVE_INFINITY : Date.parse(iso));
const latest = (a: string | undefined, b: string | undefined) => (time(b) > time(a) ? b : a);

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const sum = { ...a };
  for (const [key, value] of Object.entries(b)) sum[key] = (sum[key] ?? 0) + value;
  return sum;
}

/** Two decayed weights brought to the later of their times and added. */
function addDecayed(
  a: { value: number; at?: string },
  b: { value: number; at?: string },
  halfLifeDays: number,
): { value: number; at?: string } {
  const at = latest(a.at, b.at);
  if (at === undefined) return { value: a.value + b.value };
  return { value: decay(a.value, a.at, at, halfLifeDays) + decay(b.value, b.at, at, halfLifeDays), at };
}

function foldState(a: ProfileState, b: ProfileState, settings: ProfileSettings): ProfileState {
  const known = new Set(a.orders.map((order) => order.order_id));
  const added = b.orders.filter((order) => !known.has(order.order_id));
  const currency = a.currency ?? b.currency;
  const counted = added.filter(
    (order) => !order.refunded && (!order.currency || order.currency === currency),
  );
  const duplicates = b.orders.length - added.length;

  const engagement =
    a.engagement || b.engagement
      ? addDecayed(
          { value: a.engagement?.score ?? 0, ...(a.engagement ? { at: a.engagement.at } : {}) },
          { value: b.engagement?.score ?? 0, ...(b.engagement ? { at: b.engagement.at } : {}) },
          settings.engagementHalfLifeDays,
        )
      : undefined;

  const affinityAt = latest(a.affinityAt, b.affinityAt);
  const affinity: Record<string, number> = {};
  for (const [source, at] of [
    [a.affinity, a.affinityAt],
    [b.affinity, b.affinityAt],
  ] as const) {
    for (const [category, weight] of Object.entries(source)) {
      const decayed = affinityAt ? decay(weight, at, affinityAt, settings.affinityHalfLifeDays) : weight;
      affinity[category] = (affinity[category] ?? 0) + decayed;
    }
  }

  const viewed = new Map<string, ProfileState['lastViewed'][number]>();
  for (const product of [...a.lastViewed, ...b.lastViewed]) {
    const seen = viewed.get(product.product_id);
    if (!seen || time(product.at) > time(seen.at)) viewed.set(product.product_id, product);
  }

  const eventDays: ProfileState['eventDays'] = {};
  for (const source of [a.eventDays, b.eventDays]) {
    for (const [event, days] of Object.entries(source))
      eventDays[event] = addCounts(eventDays[event] ?? {}, days);
  }

  const consent =
    a.consent?.email && b.consent?.email
      ? { email: time(b.consent.email.at) > time(a.consent.email.at) ? b.consent.email : a.consent.email }
      : (a.consent ?? b.consent);
  const cart =
    a.cart && b.cart
      ? time(b.cart.updated_at) > time(a.cart.updated_at)
        ? b.cart
        : a.cart
      : (a.cart ?? b.cart);
  const lastEvent =
    a.lastEvent && b.lastEvent
      ? time(b.lastEvent.at) > time(a.lastEvent.at)
        ? b.lastEvent
        : a.lastEvent
      : (a.lastEvent ?? b.lastEvent);

  const state: ProfileState = {
    orders: [...a.orders, ...added].sort((x, y) => time(x.at) - time(y.at)),
    ltv: a.ltv + counted.reduce((sum, order) => sum + order.revenue, 0),
    ordersCount: a.ordersCount + b.ordersCount - duplicates,
    affinity,
    viewedCategories: addCounts(a.viewedCategories, b.viewedCategories),
    purchasedCategories: addCounts(a.purchasedCategories, b.purchasedCategories),
    lastViewed: [...viewed.values()].sort((x, y) => time(y.at) - time(x.at)).slice(0, LAST_VIEWED_KEPT),
    eventDays,
  };
  if (currency) state.currency = currency;
  if (engagement) state.engagement = { score: engagement.value, at: engagement.at! };
  for (const key of ['lastOpenAt', 'lastClickAt', 'lastSeenAt', 'cartClearedAt'] as const) {
    const value = latest(a[key], b[key]);
    if (value !== undefined) state[key] = value;
  }
  if (affinityAt) state.affinityAt = affinityAt;
  if (cart) state.cart = cart;
  if (consent) state.consent = consent;
  if (lastEvent) state.lastEvent = lastEvent;
  if (a.thirdParty || b.thirdParty) state.thirdParty = { ...b.thirdParty, ...a.thirdParty };
  return state;
}

/**
 * Folds merged profiles into the survivor: each trait keeps its newest value, counts and revenue add
 * (an order both know counts once), recency and last-seen take the latest, decayed scores add after
 * decaying to the same moment.
 */
export function foldProfiles(
  survivor: ProfileModel,
  merged: readonly ProfileModel[],
  settings: ProfileSettings,
): ProfileModel {
  const folded: ProfileModel = {
    ...survivor,
    traits: { ...survivor.traits },
    traitTimes: { ...survivor.traitTimes },
  };
  for (const other of merged) {
    for (const [name, value] of Object.entries(other.traits)) {
      const theirs = other.traitTimes[name];
      const ours = folded.traitTimes[name];
      if (ours !== undefined && time(ours) >= time(theirs)) continue;
      folded.traits[name] = value;
      if (theirs !== undefined) folded.traitTimes[name] = theirs;
    }
    folded.state = foldState(folded.state, other.state, settings);
  }
  return folded;
}
