import { evaluate, type Rule, ruleProblems, type RuleContext } from './rule.js';

const NOW = Date.parse('2026-06-30T12:00:00Z');
const context: RuleContext = {
  traits: { plan: 'gold', 'shoe.size': 42, email: 'a@example.com' },
  computed: { orders_count: 3, cart: { value: 80, items: [] }, top_viewed_categories: ['Hats'] },
  properties: { price: 20 },
  segments: ['vip'],
  eventDays: { 'Order Completed': { '2026-06-25': 2, '2026-04-01': 5 } },
  now: NOW,
};

describe('rules', () => {
  it.each<[Rule, boolean]>([
    [{ attr: 'traits.plan', op: 'eq', value: 'gold' }, true],
    [{ attr: 'traits.shoe.size', op: 'gte', value: 42 }, true],
    [{ attr: 'computed.cart.value', op: 'lt', value: 50 }, false],
    [{ attr: 'computed.top_viewed_categories', op: 'contains', value: 'Hats' }, true],
    [{ attr: 'traits.phone', op: 'exists' }, false],
    [{ attr: 'traits.phone', op: 'not_exists' }, true],
    [{ attr: 'traits.plan', op: 'in', value: ['silver', 'gold'] }, true],
    [{ attr: 'segments', op: 'contains', value: 'vip' }, true],
    [{ attr: 'properties.price', op: 'gt', value: 10 }, true],
    [{ event: 'Order Completed', withinDays: 30, op: 'gte', value: 2 }, true],
    [{ event: 'Order Completed', withinDays: 30, op: 'gte', value: 3 }, false],
    [{ event: 'Order Completed', withinDays: 120 }, true],
    [
      {
        and: [
          { attr: 'traits.plan', op: 'eq', value: 'gold' },
          { not: { attr: 'traits.email', op: 'exists' } },
        ],
      },
      false,
    ],
    [
      {
        or: [
          { attr: 'traits.plan', op: 'eq', value: 'free' },
          { attr: 'computed.orders_count', op: 'gte', value: 3 },
        ],
      },
      true,
    ],
  ])('%j is %s', (rule, expected) => {
    expect(evaluate(rule, context)).toBe(expected);
  });

  it('names every problem of an invalid rule by its path', () => {
    expect(
      ruleProblems({
        and: [{ attr: 'plan', op: 'eq', value: 1 }, { event: 'X', withinDays: 0 }, { not: 3 }],
      }),
    ).toEqual([
      'rule.and[0].attr: must start with one of traits, computed, properties, segments (e.g. "computed.orders_count")',
      'rule.and[1].withinDays: must be a whole number of days from 1 to 365',
      'rule.and[2].not: must be an object',
    ]);
    expect(ruleProblems({ attr: 'traits.plan', op: 'gt' })).toEqual(['rule.value: is required for op "gt"']);
    expect(ruleProblems({ attr: 'traits.plan', op: 'exists', extra: 1 })).toEqual([
      'rule.extra: unknown field',
    ]);
  });
});
