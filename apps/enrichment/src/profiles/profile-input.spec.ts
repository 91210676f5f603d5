import { computeAttributes } from './computed-attributes.js';
import { applyInput } from './profile-input.js';
import { emptyProfile } from './profile-model.js';
import { DEFAULT_PROFILE_SETTINGS } from './profile-settings.js';

const settings = DEFAULT_PROFILE_SETTINGS;
const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const daysAgo = (days: number) => new Date(NOW - days * DAY).toISOString();

const order = (orderId: string, days: number, revenue: number, category = 'Shoes') => ({
  kind: 'track' as const,
  at: daysAgo(days),
  event: 'Order Completed',
  properties: {
    order_id: orderId,
    revenue,
    currency: 'EUR',
    products: [{ product_id: `p-${orderId}`, category, price: revenue, quantity: 1 }],
  },
  traits: {},
});

describe('profile traits', () => {
  it('keep the newest value per trait by event time, whatever the arrival order', () => {
    const profile = emptyProfile('p1');
    applyInput(profile, { kind: 'traits', at: daysAgo(1), traits: { plan: 'gold', city: 'Lyon' } }, settings);
    const set = applyInput(
      profile,
      { kind: 'traits', at: daysAgo(5), traits: { plan: 'free', age: 40 } },
      settings,
    );
    expect(set).toEqual(['age']);
    expect(profile.traits).toEqual({ plan: 'gold', city: 'Lyon', age: 40 });
  });

  it('take the newest consent statement, from traits or consent events', () => {
    const profile = emptyProfile('p1');
    const optedIn = { status: 'opted_in' as const, source: 'form', at: daysAgo(2) };
    applyInput(profile, { kind: 'consent', at: daysAgo(2), consent: optedIn, traits: {} }, settings);
    applyInput(
      profile,
      {
        kind: 'consent',
        at: daysAgo(9),
        consent: { ...optedIn, status: 'opted_out', at: daysAgo(9) },
        traits: {},
      },
      settings,
    );
    expect(computeAttributes(profile.state, NOW, settings).consent).toEqual({ email: optedIn });
    applyInput(profile, { kind: 'delivery', at: daysAgo(1), outcome: 'unsubscribed' }, settings);
    expect(computeAttributes(profile.state, NOW, settings).consent?.email?.status).toBe('opted_out');
  });
});

describe('computed attributes', () => {
  it('score recency, frequency and monetary over the window, and keep lifetime value', () => {
    const profile = emptyProfile('p1');
    for (const input of [
      order('o1', 500, 900, 'Bags'), // outside the 365-day window
      order('o2', 200, 150),
      order('o3', 60, 250),
      order('o4', 10, 120),
      order('o4', 10, 120), // the same order again counts once
    ]) {
      applyInput(profile, input, settings);
    }
    const computed = computeAttributes(profile.state, NOW, settings);
    expect(computed).toMatchObject({
      recency_days: 10,
      frequency: 3,
      monetary: 520,
      rfm_window_days: 365,
      r_score: 5,
      f_score: 3,
      m_score: 4,
      lifetime_value: 1420,
      orders_count: 4,
      first_order_at: daysAgo(500),
      last_order_at: daysAgo(10),
      currency: 'EUR',
      purchased_category: 'Shoes',
    });
  });

  it('takes a refunded order out of monetary and lifetime value', () => {
    const profile = emptyProfile('p1');
    applyInput(profile, order('o1', 3, 100), settings);
    applyInput(profile, order('o2', 2, 40), settings);
    applyInput(
      profile,
      { kind: 'track', at: daysAgo(1), event: 'Order Refunded', properties: { order_id: 'o1' }, traits: {} },
      settings,
    );
    expect(computeAttributes(profile.state, NOW, settings)).toMatchObject({
      monetary: 40,
      lifetime_value: 40,
    });
  });

  it('decays engagement: a click counts three opens, halving every half-life', () => {
    const profile = emptyProfile('p1');
    applyInput(profile, { kind: 'delivery', at: daysAgo(14), outcome: 'opened' }, settings);
    applyInput(profile, { kind: 'delivery', at: daysAgo(14), outcome: 'clicked' }, settings);
    expect(computeAttributes(profile.state, NOW, settings).engagement_score).toBeCloseTo(2, 3);
    expect(computeAttributes(profile.state, NOW, settings).last_click_at).toBe(daysAgo(14));
  });

  it('keeps the cart from adds and removes, empties it on an order, and ignores older cart events after', () => {
    const profile = emptyProfile('p1');
    const add = (days: number, productId: string, price: number, quantity = 1) => ({
      kind: 'track' as const,
      at: daysAgo(days),
      event: 'Product Added',
      properties: {
        cart_id: 'c1',
        product_id: productId,
        price,
        quantity,
        currency: 'EUR',
        category: 'Audio',
      },
      traits: {},
    });
    applyInput(profile, add(5, 'a', 10, 2), settings);
    applyInput(profile, add(4, 'b', 5), settings);
    applyInput(profile, { ...add(3, 'a', 10), event: 'Product Removed' }, settings);
    expect(computeAttributes(profile.state, NOW, settings).cart).toMatchObject({
      cart_id: 'c1',
      value: 15,
      currency: 'EUR',
      items: [
        { product_id: 'a', quantity: 1 },
        { product_id: 'b', quantity: 1 },
      ],
    });
    applyInput(profile, order('o1', 2, 15), settings);
    applyInput(profile, add(3.5, 'c', 99), settings);
    expect(computeAttributes(profile.state, NOW, settings).cart).toMatchObject({ items: [], value: 0 });
  });

  it('keeps the last viewed products, most recent first, and the categories viewed most', () => {
    const profile = emptyProfile('p1');
    const view = (days: number, productId: string, category: string) => ({
      kind: 'track' as const,
      at: daysAgo(days),
      event: 'Product Viewed',
      properties: { product_id: productId, category, name: `Product ${productId}` },
      traits: {},
    });
    for (let i = 0; i < 12; i++)
      applyInput(profile, view(20 - i, `p${i}`, i % 3 === 0 ? 'Hats' : 'Socks'), settings);
    applyInput(profile, view(1, 'p2', 'Socks'), settings);
    const computed = computeAttributes(profile.state, NOW, settings);
    expect(computed.last_viewed_products).toHaveLength(10);
    expect(computed.last_viewed_products?.[0]).toEqual({
      product_id: 'p2',
      category: 'Socks',
      name: 'Product p2',
    });
    expect(computed.top_viewed_categories).toEqual(['Socks', 'Hats']);
    expect(computed.category_affinity?.Socks).toBeGreaterThan(computed.category_affinity?.Hats ?? 0);
  });
});
