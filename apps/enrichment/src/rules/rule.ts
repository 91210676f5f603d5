/**
 * Rules over a profile (and, for campaign triggers, the event's properties), written as JSON by
 * admins: segments and campaign conditions share them.
 *
 *   { "and": [rule, …] }  { "or": [rule, …] }  { "not": rule }
 *   { "attr": "computed.orders_count", "op": "gte", "value": 2 }
 *   { "attr": "traits.email", "op": "exists" }
 *   { "event": "Order Completed", "withinDays": 30, "op": "gte", "value": 2 }
 */
export type Rule =
  | { and: Rule[] }
  | { or: Rule[] }
  | { not: Rule }
  | { attr: string; op: ComparisonOp; value?: unknown }
  | { event: string; withinDays: number; op?: CountOp; value?: number };

export const COMPARISON_OPS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'contains',
  'exists',
  'not_exists',
] as const;
export type ComparisonOp = (typeof COMPARISON_OPS)[number];
export const COUNT_OPS = ['eq', 'gt', 'gte', 'lt', 'lte'] as const;
export type CountOp = (typeof COUNT_OPS)[number];

/** What a rule is evaluated against. */
export interface RuleContext {
  traits: Record<string, unknown>;
  computed: Record<string, unknown>;
  /** The triggering event's properties (campaign conditions only). */
  properties?: Record<string, unknown>;
  segments?: readonly string[];
  /** Event name → UTC day → count. */
  eventDays: Record<string, Record<string, number>>;
  now: number;
}

const DAY_MS = 86_400_000;
const MAX_DEPTH = 16;
const ROOTS = ['traits', 'computed', 'properties', 'segments'];

/** Walks a dotted path; a key that itself contains dots (customer trait names) is matched too. */
export function valueAt(source: unknown, path: readonly string[]): unknown {
  if (path.length === 0) return source;
  if (source === null || typeof source !== 'object') return undefined;
  const record = source as Record<string, unknown>;
  for (let take = path.length; take >= 1; take--) {
    const key = path.slice(0, take).join('.');
    if (Object.hasOwn(record, key)) {
      const found = valueAt(record[key], path.slice(take));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function compare(actual: unknown, op: ComparisonOp, expected: unknown): boolean {
  switch (op) {
    case 'exists':
      return actual !== undefined && actual !== null;
    case 'not_exists':
      return actual === undefined || actual === null;
    case 'eq':
      return JSON.stringify(actual) === JSON.stringify(expected);
    case 'ne':
      return JSON.stringify(actual) !== JSON.stringify(expected);
    case 'in':
      return (
        Array.isArray(expected) && expected.some((item) => JSON.stringify(item) === JSON.stringify(actual))
      );
    case 'contains':
      if (Array.isArray(actual))
        return actual.some((item) => JSON.stringify(item) === JSON.stringify(expected));
      return typeof actual === 'string' && typeof expected === 'string' && actual.includes(expected);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const both =
        (typeof actual === 'number' && typeof expected === 'number') ||
        (typeof actual === 'string' && typeof expected === 'string');
      if (!both) return false;
      const a = actual;
      const b = expected;
      return op === 'gt' ? a > b : op === 'gte' ? a >= b : op === 'lt' ? a < b : a <= b;
    }
  }
}

export function eventCount(context: RuleContext, event: string, withinDays: number): number {
  const since = new Date(context.now - withinDays * DAY_MS).toISOString().slice(0, 10);
  const days = context.eventDays[event] ?? {};
  return Object.entries(days).reduce((sum, [day, count]) => (day >= since ? sum + count : sum), 0);
}

export function evaluate(rule: Rule, context: RuleContext): boolean {
  if ('and' in rule) return rule.and.every((part) => evaluate(part, context));
  if ('or' in rule) return rule.or.some((part) => evaluate(part, context));
  if ('not' in rule) return !evaluate(rule.not, context);
  if ('event' in rule) {
    const count = eventCount(context, rule.event, rule.withinDays);
    return compare(count, rule.op ?? 'gte', rule.value ?? 1);
  }
  const [root, ...rest] = rule.attr.split('.');
  const source: unknown =
    root === 'traits'
      ? context.traits
      : root === 'computed'
        ? context.computed
        : root === 'properties'
          ? context.properties
          : context.segments;
  return compare(valueAt(source, rest), rule.op, rule.value);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Every problem with a rule from outside, each named by its path (empty when it is valid). */
export function ruleProblems(rule: unknown, path = 'rule', depth = 0): string[] {
  if (depth > MAX_DEPTH) return [`${path}: nested deeper than ${MAX_DEPTH}`];
  if (!isObject(rule)) return [`${path}: must be an object`];
  const keys = Object.keys(rule);
  const only = (...allowed: string[]) =>
    keys.filter((key) => !allowed.includes(key)).map((key) => `${path}.${key}: unknown field`);
  if ('and' in rule || 'or' in rule) {
    const key = 'and' in rule ? 'and' : 'or';
    const parts = rule[key];
    if (!Array.isArray(parts) || parts.length === 0) return [`${path}.${key}: must be a non-empty array`];
    return [
      ...only(key),
      ...parts.flatMap((part, index) => ruleProblems(part, `${path}.${key}[${index}]`, depth + 1)),
    ];
  }
  if ('not' in rule) return [...only('not'), ...ruleProblems(rule.not, `${path}.not`, depth + 1)];
  if ('event' in rule) {
    const problems = only('event', 'withinDays', 'op', 'value');
    if (typeof rule.event !== 'string' || rule.event === '')
      problems.push(`${path}.event: must be an event name`);
    if (
      typeof rule.withinDays !== 'number' ||
      !Number.isInteger(rule.withinDays) ||
      rule.withinDays < 1 ||
      rule.withinDays > 365
    )
      problems.push(`${path}.withinDays: must be a whole number of days from 1 to 365`);
    if (rule.op !== undefined && !(COUNT_OPS as readonly unknown[]).includes(rule.op))
      problems.push(`${path}.op: must be one of ${COUNT_OPS.join(', ')}`);
    if (rule.value !== undefined && (typeof rule.value !== 'number' || rule.value < 0))
      problems.push(`${path}.value: must be a count (a number from 0)`);
    return problems;
  }
  if ('attr' in rule) {
    const problems = only('attr', 'op', 'value');
    const root = typeof rule.attr === 'string' ? rule.attr.split('.')[0] : undefined;
    if (root === undefined || !ROOTS.includes(root))
      problems.push(
        `${path}.attr: must start with one of ${ROOTS.join(', ')} (e.g. "computed.orders_count")`,
      );
    if (!(COMPARISON_OPS as readonly unknown[]).includes(rule.op))
      problems.push(`${path}.op: must be one of ${COMPARISON_OPS.join(', ')}`);
    else if (rule.op !== 'exists' && rule.op !== 'not_exists' && !('value' in rule))
      problems.push(`${path}.value: is required for op "${String(rule.op)}"`);
    else if (rule.op === 'in' && !Array.isArray(rule.value))
      problems.push(`${path}.value: must be an array for op "in"`);
    return problems;
  }
  return [`${path}: must have one of and, or, not, attr, event`];
}
