import { type ComputedProduct } from '@mesh/contracts';
import {
  type ConsentRecord,
  type OrderRecord,
  type ProfileModel,
  type ProfileState,
} from './profile-model.js';
import { type ProfileSettings } from './profile-settings.js';

/** What one message tells about a profile, whatever subject it came on. */
export type ProfileInput =
  | { kind: 'traits'; at: string; traits: Record<string, unknown> }
  | {
      kind: 'track';
      at: string;
      event: string;
      properties: Record<string, unknown>;
      traits: Record<string, unknown>;
    }
  | {
      kind: 'page';
      at: string;
      category?: string;
      properties: Record<string, unknown>;
      traits: Record<string, unknown>;
    }
  | { kind: 'consent'; at: string; consent: ConsentRecord; traits: Record<string, unknown> }
  | { kind: 'delivery'; at: string; outcome: 'opened' | 'clicked' | 'unsubscribed' };

const DAY_MS = 86_400_000;
const LAST_VIEWED_KEPT = 10;
const ORDERS_KEPT = 500;
const EVENT_DAYS_KEPT = 400;

const time = (iso: string | undefined): number =>
  iso === undefined ? Number.NEGATIVE_INFINITY : Date.parse(iso);
const later = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined ? a : time(a) >= time(b) ? a : b;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A product from event properties, keeping only the fields templates read. */
export function productOf(properties: Record<string, unknown>): ComputedProduct | undefined {
  const productId = text(properties.product_id) ?? text(properties.sku);
  if (!productId) return undefined;
  const product: ComputedProduct = { product_id: productId };
  for (const key of ['name', 'category', 'currency', 'url', 'image_url'] as const) {
    const value = text(properties[key]);
    if (value !== undefined) product[key] = value;
  }
  for (const key of ['price', 'quantity'] as const) {
    const value = num(properties[key]);
    if (value !== undefined) product[key] = value;
  }
  return product;
}

function productsOf(properties: Record<string, unknown>): ComputedProduct[] {
  const list = Array.isArray(properties.products) ? properties.products : [];
  return list
    .filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
    .map(productOf)
    .filter((product) => product !== undefined);
}

/** Decays weights from `from` to `to` with a half-life, so older interest counts less. */
export function decay(value: number, from: string | undefined, to: string, halfLifeDays: number): number {
  if (from === undefined) return value;
  const days = Math.max(0, (time(to) - time(from)) / DAY_MS);
  return value * 0.5 ** (days / halfLifeDays);
}

/** Applies traits with last-write-wins per trait by the event's own time. Returns the names set. */
function applyTraits(profile: ProfileModel, traits: Record<string, unknown>, at: string): string[] {
  const set: string[] = [];
  for (const [name, value] of Object.entries(traits)) {
    const previous = profile.traitTimes[name];
    if (previous !== undefined && time(previous) > time(at)) continue;
    profile.traits[name] = value;
    profile.traitTimes[name] = at;
    set.push(name);
  }
  const consent = traits.consent as (Partial<ConsentRecord> & { channel?: string }) | undefined;
  if (
    consent &&
    typeof consent === 'object' &&
    (consent.channel ?? 'email') === 'email' &&
    (consent.status === 'opted_in' || consent.status === 'opted_out')
  ) {
    applyConsent(profile.state, {
      status: consent.status,
      source: text(consent.source) ?? 'traits',
      at: text(consent.at) ?? at,
    });
  }
  return set;
}

function applyConsent(state: ProfileState, consent: ConsentRecord): void {
  const current = state.consent?.email;
  if (current && time(current.at) > time(consent.at)) return;
  state.consent = { ...state.consent, email: consent };
}

function addAffinity(
  state: ProfileState,
  category: string | undefined,
  weight: number,
  at: string,
  settings: ProfileSettings,
): void {
  if (!category) return;
  const to = later(state.affinityAt, at)!;
  if (state.affinityAt !== to) {
    for (const [key, value] of Object.entries(state.affinity)) {
      state.affinity[key] = decay(value, state.affinityAt, to, settings.affinityHalfLifeDays);
    }
    state.affinityAt = to;
  }
  // A late event adds its weight decayed to the newest time the map is at.
  state.affinity[category] =
    (state.affinity[category] ?? 0) + decay(weight, at, to, settings.affinityHalfLifeDays);
}

function countDay(state: ProfileState, event: string, at: string): void {
  const day = new Date(time(at)).toISOString().slice(0, 10);
  const days = (state.eventDays[event] ??= {});
  days[day] = (days[day] ?? 0) + 1;
  const oldest = new Date(time(at) - EVENT_DAYS_KEPT * DAY_MS).toISOString().slice(0, 10);
  for (const kept of Object.keys(days)) if (kept < oldest) delete days[kept];
}

function cartValue(items: readonly ComputedProduct[]): number {
  return items.reduce((sum, item) => sum + (item.price ?? 0) * (item.quantity ?? 1), 0);
}

function changeCart(
  state: ProfileState,
  event: string,
  properties: Record<string, unknown>,
  at: string,
): void {
  if (state.cartClearedAt !== undefined && time(at) < time(state.cartClearedAt)) return;
  const cartId = text(properties.cart_id) ?? state.cart?.cart_id;
  let items = [...(state.cart?.items ?? [])];
  if (event === 'Cart Viewed') {
    items = productsOf(properties);
  } else {
    const product = productOf(properties);
    if (!product) return;
    const quantity = product.quantity ?? 1;
    const index = items.findIndex((item) => item.product_id === product.product_id);
    const existing = index >= 0 ? items[index] : undefined;
    const held = existing ? (existing.quantity ?? 1) : 0;
    const remaining = event === 'Product Added' ? held + quantity : held - quantity;
    if (index >= 0) items.splice(index, 1);
    if (remaining > 0) items.unshift({ ...existing, ...product, quantity: remaining });
  }
  const currency = items.find((item) => item.currency)?.currency ?? text(properties.currency);
  state.cart = {
    ...(cartId ? { cart_id: cartId } : {}),
    items,
    value: cartValue(items),
    ...(currency ? { currency } : {}),
    updated_at: later(state.cart?.updated_at, at)!,
  };
}

function orderRevenue(properties: Record<string, unknown>): number {
  return (
    num(properties.revenue) ??
    num(properties.total) ??
    num(properties.value) ??
    cartValue(productsOf(properties))
  );
}

function completeOrder(
  state: ProfileState,
  properties: Record<string, unknown>,
  at: string,
  settings: ProfileSettings,
): void {
  const orderId = text(properties.order_id) ?? `at:${at}`;
  if (state.orders.some((order) => order.order_id === orderId)) return;
  const products = productsOf(properties);
  const currency = text(properties.currency);
  const order: OrderRecord = {
    order_id: orderId,
    at,
    revenue: orderRevenue(properties),
    ...(currency ? { currency } : {}),
    categories: [...new Set(products.map((product) => product.category).filter((c) => c !== undefined))],
  };
  state.orders.push(order);
  state.orders.sort((a, b) => time(a.at) - time(b.at));
  if (state.orders.length > ORDERS_KEPT) state.orders.splice(0, state.orders.length - ORDERS_KEPT);
  state.ordersCount += 1;
  state.currency ??= currency;
  if (!currency || currency === state.currency) state.ltv += order.revenue;
  for (const product of products) {
    if (!product.category) continue;
    state.purchasedCategories[product.category] = (state.purchasedCategories[product.category] ?? 0) + 1;
    addAffinity(state, product.category, 5, at, settings);
  }
  if (!state.cart || time(state.cart.updated_at) <= time(at)) {
    state.cart = { items: [], value: 0, updated_at: at };
    state.cartClearedAt = later(state.cartClearedAt, at);
  }
}

function refundOrder(state: ProfileState, properties: Record<string, unknown>): void {
  const order = state.orders.find((candidate) => candidate.order_id === text(properties.order_id));
  if (!order || order.refunded) return;
  order.refunded = true;
  if (!order.currency || order.currency === state.currency) state.ltv -= order.revenue;
}

function viewProduct(
  state: ProfileState,
  properties: Record<string, unknown>,
  at: string,
  settings: ProfileSettings,
): void {
  const product = productOf(properties);
  const category = text(properties.category);
  if (category) state.viewedCategories[category] = (state.viewedCategories[category] ?? 0) + 1;
  addAffinity(state, category, 1, at, settings);
  if (!product) return;
  const { quantity: _quantity, ...viewed } = product;
  const list = state.lastViewed.filter((item) => item.product_id !== product.product_id);
  list.push({ ...viewed, at });
  list.sort((a, b) => time(b.at) - time(a.at));
  state.lastViewed = list.slice(0, LAST_VIEWED_KEPT);
}

function applyTrack(
  profile: ProfileModel,
  event: string,
  properties: Record<string, unknown>,
  at: string,
  settings: ProfileSettings,
): void {
  const state = profile.state;
  countDay(state, event, at);
  if (!state.lastEvent || time(state.lastEvent.at) <= time(at)) state.lastEvent = { name: event, at };
  switch (event) {
    case 'Product Viewed':
      viewProduct(state, properties, at, settings);
      break;
    case 'Product List Viewed': {
      const category = text(properties.category);
      if (category) state.viewedCategories[category] = (state.viewedCategories[category] ?? 0) + 1;
      addAffinity(state, category, 1, at, settings);
      break;
    }
    case 'Product Added':
      changeCart(state, event, properties, at);
      addAffinity(state, text(properties.category), 2, at, settings);
      break;
    case 'Product Removed':
    case 'Cart Viewed':
      changeCart(state, event, properties, at);
      break;
    case 'Order Completed':
      completeOrder(state, properties, at, settings);
      break;
    case 'Order Refunded':
    case 'Order Cancelled':
      refundOrder(state, properties);
      break;
    default:
      break;
  }
}

function applyDelivery(
  state: ProfileState,
  outcome: 'opened' | 'clicked' | 'unsubscribed',
  at: string,
  settings: ProfileSettings,
): void {
  if (outcome === 'unsubscribed') {
    applyConsent(state, { status: 'opted_out', source: 'unsubscribe', at });
    return;
  }
  const weight = outcome === 'clicked' ? 3 : 1;
  const current = state.engagement;
  const to = later(current?.at, at)!;
  const score =
    decay(current?.score ?? 0, current?.at, to, settings.engagementHalfLifeDays) +
    decay(weight, at, to, settings.engagementHalfLifeDays);
  state.engagement = { score, at: to };
  if (outcome === 'opened') state.lastOpenAt = later(state.lastOpenAt, at);
  else state.lastClickAt = later(state.lastClickAt, at);
}

/**
 * Applies one input to a profile in place: traits by last-write-wins, state for the computed
 * attributes. Returns the trait names it set.
 */
export function applyInput(
  profile: ProfileModel,
  input: ProfileInput,
  settings: ProfileSettings,
  thirdParty: Record<string, Record<string, unknown>> = {},
): string[] {
  const state = profile.state;
  if (Object.keys(thirdParty).length > 0) state.thirdParty = { ...state.thirdParty, ...thirdParty };
  if (input.kind !== 'delivery') state.lastSeenAt = later(state.lastSeenAt, input.at);
  switch (input.kind) {
    case 'traits':
      return applyTraits(profile, input.traits, input.at);
    case 'track': {
      const set = applyTraits(profile, input.traits, input.at);
      applyTrack(profile, input.event, input.properties, input.at, settings);
      return set;
    }
    case 'page': {
      const set = applyTraits(profile, input.traits, input.at);
      countDay(state, '$page', input.at);
      addAffinity(state, input.category, 1, input.at, settings);
      return set;
    }
    case 'consent': {
      const set = applyTraits(profile, input.traits, input.at);
      applyConsent(state, input.consent);
      return set;
    }
    case 'delivery':
      countDay(state, `delivery.${input.outcome}`, input.at);
      applyDelivery(state, input.outcome, input.at, settings);
      return [];
  }
}
