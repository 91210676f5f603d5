import { applyInput, type ProfileInput } from '../profiles/profile-input.js';
import { emptyProfile, type ProfileModel } from '../profiles/profile-model.js';
import { DEFAULT_PROFILE_SETTINGS } from '../profiles/profile-settings.js';
import { type Rule } from '../rules/rule.js';
import { membershipAt, nextMembershipChange } from './segment-review.js';

const settings = DEFAULT_PROFILE_SETTINGS;
const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T10:00:00Z');
const iso = (time: number) => new Date(time).toISOString();
const segment = (segmentId: string, rule: Rule) => ({ segmentId, name: segmentId, rule, createdAt: iso(0) });

function profileWith(...inputs: ProfileInput[]): ProfileModel {
  const model = emptyProfile('p');
  for (const input of inputs) applyInput(model, input, settings);
  return model;
}
const order = (at: number, revenue = 50): ProfileInput => ({
  kind: 'track',
  at: iso(at),
  event: 'Order Completed',
  properties: { order_id: `o-${at}`, revenue, currency: 'EUR' },
  traits: {},
});

describe('when segment membership changes with time alone', () => {
  it('an event-count window: the day of the order leaves the window at the start of day N+1', () => {
    const model = profileWith(order(NOW));
    const recent = segment('recent', { event: 'Order Completed', withinDays: 30 });
    const due = nextMembershipChange(model, [recent], NOW, settings);
    expect(iso(due!)).toBe('2026-07-02T00:00:00.000Z');
    expect(membershipAt(model, [recent], due! - 1, settings)).toEqual(['recent']);
    expect(membershipAt(model, [recent], due!, settings)).toEqual([]);
    // The complement enters at the same instant.
    const lapsed = segment('lapsed', { not: recent.rule });
    expect(nextMembershipChange(model, [lapsed], NOW, settings)).toBe(due);
  });

  it('recency compared with a number: leaves the day the recency passes it', () => {
    const model = profileWith(order(NOW - 10 * DAY));
    const rule: Rule = { attr: 'computed.recency_days', op: 'lte', value: 30 };
    expect(nextMembershipChange(model, [segment('r', rule)], NOW, settings)).toBe(NOW - 10 * DAY + 31 * DAY);
  });

  it('a frequency window of several (rfm_windows): changes when the order leaves the 30-day window', () => {
    const model = profileWith(order(NOW - 5 * DAY), order(NOW - 20 * DAY));
    const rule: Rule = { attr: 'computed.rfm_windows.30d.frequency', op: 'gte', value: 2 };
    expect(membershipAt(model, [segment('f', rule)], NOW, settings)).toEqual(['f']);
    expect(nextMembershipChange(model, [segment('f', rule)], NOW, settings)).toBe(NOW + 10 * DAY + 1);
  });

  it('a decaying engagement score crossing a threshold (half-life 14 days)', () => {
    const model = profileWith({ kind: 'delivery', at: iso(NOW), outcome: 'opened' });
    const rule: Rule = { attr: 'computed.engagement_score', op: 'gte', value: 0.5 };
    const due = nextMembershipChange(model, [segment('e', rule)], NOW, settings)!;
    expect(Math.abs(due - (NOW + 14 * DAY))).toBeLessThan(DAY / 10);
    expect(membershipAt(model, [segment('e', rule)], due, settings)).toEqual([]);
  });

  it('nothing to schedule when no rule depends on time, or membership never changes', () => {
    const model = profileWith(order(NOW), { kind: 'traits', at: iso(NOW), traits: { plan: 'gold' } });
    const byTrait = segment('gold', { attr: 'traits.plan', op: 'eq', value: 'gold' });
    expect(nextMembershipChange(model, [byTrait], NOW, settings)).toBeUndefined();
    const ever = segment('ever', { attr: 'computed.orders_count', op: 'gte', value: 1 });
    expect(nextMembershipChange(model, [ever, byTrait], NOW, settings)).toBeUndefined();
    expect(nextMembershipChange(model, [], NOW, settings)).toBeUndefined();
  });
});
