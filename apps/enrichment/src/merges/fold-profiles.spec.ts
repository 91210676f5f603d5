import { computeAttributes } from '../profiles/computed-attributes.js';
import { applyInput, type ProfileInput } from '../profiles/profile-input.js';
import { emptyProfile } from '../profiles/profile-model.js';
import { DEFAULT_PROFILE_SETTINGS } from '../profiles/profile-settings.js';
import { foldProfiles } from './fold-profiles.js';

const settings = DEFAULT_PROFILE_SETTINGS;
const NOW = Date.parse('2026-06-01T00:00:00Z');
const at = (days: number) => new Date(NOW - days * 86_400_000).toISOString();
const order = (orderId: string, days: number, revenue: number): ProfileInput => ({
  kind: 'track',
  at: at(days),
  event: 'Order Completed',
  properties: { order_id: orderId, revenue, currency: 'EUR' },
  traits: {},
});

describe('folding merged profiles', () => {
  it('adds counts once per order, takes the latest times and the newest traits, adds decayed engagement', () => {
    const survivor = emptyProfile('a');
    const merged = emptyProfile('b');
    applyInput(survivor, { kind: 'traits', at: at(5), traits: { name: 'A', plan: 'free' } }, settings);
    applyInput(merged, { kind: 'traits', at: at(1), traits: { plan: 'gold' } }, settings);
    applyInput(survivor, order('o1', 30, 100), settings);
    applyInput(merged, order('o1', 30, 100), settings);
    applyInput(merged, order('o2', 2, 40), settings);
    applyInput(survivor, { kind: 'delivery', at: at(14), outcome: 'opened' }, settings);
    applyInput(merged, { kind: 'delivery', at: at(0), outcome: 'opened' }, settings);

    const folded = foldProfiles(survivor, [merged], settings);
    expect(folded.traits).toEqual({ name: 'A', plan: 'gold' });
    expect(computeAttributes(folded.state, NOW, settings)).toMatchObject({
      orders_count: 2,
      lifetime_value: 140,
      recency_days: 2,
      engagement_score: 1.5,
      last_seen_at: at(1),
    });
    expect(survivor.traits.plan).toBe('free');
  });
});
