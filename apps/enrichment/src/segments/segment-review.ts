import { computeAttributes } from '../profiles/computed-attributes.js';
import { type ProfileModel } from '../profiles/profile-model.js';
import { type ProfileSettings } from '../profiles/profile-settings.js';
import { evaluate, type Rule } from '../rules/rule.js';
import { type Segment } from './segment.js';

const DAY_MS = 86_400_000;
/** The engagement and affinity scores are rounded to 3 digits: a threshold is crossed within this. */
const ROUNDING = 0.0005;
/** Instants evaluated per change, at most (each computes the attributes once). */
const MAX_INSTANTS = 32;

/** What in a rule can change with time alone, with no new event. */
interface TimeReferences {
  /** `{ event, withinDays }` rules. */
  eventWindows: Array<{ event: string; withinDays: number }>;
  /** Numbers compared with `computed.recency_days`. */
  recencyValues: number[];
  recencyScore: boolean;
  /** Frequency or monetary, of any window, or their scores. */
  orderWindows: boolean;
  /** Numbers compared with `computed.engagement_score`. */
  engagementValues: number[];
  /** Category → numbers compared with `computed.category_affinity.<category>`. */
  affinityValues: Map<string, number[]>;
}

const ORDER_WINDOW_ATTRS = new Set(['frequency', 'monetary', 'f_score', 'm_score', 'rfm_windows']);

function numbersIn(value: unknown): number[] {
  if (typeof value === 'number' && Number.isFinite(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(numbersIn);
  return [];
}

function collect(rule: Rule, into: TimeReferences): void {
  if ('and' in rule) return rule.and.forEach((part) => collect(part, into));
  if ('or' in rule) return rule.or.forEach((part) => collect(part, into));
  if ('not' in rule) return collect(rule.not, into);
  if ('event' in rule) {
    into.eventWindows.push({ event: rule.event, withinDays: rule.withinDays });
    return;
  }
  const [root, name, ...rest] = rule.attr.split('.');
  if (root !== 'computed' || name === undefined) return;
  if (name === 'recency_days') into.recencyValues.push(...numbersIn(rule.value));
  else if (name === 'r_score') into.recencyScore = true;
  else if (ORDER_WINDOW_ATTRS.has(name)) into.orderWindows = true;
  else if (name === 'engagement_score') into.engagementValues.push(...numbersIn(rule.value));
  else if (name === 'category_affinity') {
    const category = rest.join('.');
    into.affinityValues.set(category, [
      ...(into.affinityValues.get(category) ?? []),
      ...numbersIn(rule.value),
    ]);
  }
}

export function timeReferences(segments: readonly Segment[]): TimeReferences {
  const references: TimeReferences = {
    eventWindows: [],
    recencyValues: [],
    recencyScore: false,
    orderWindows: false,
    engagementValues: [],
    affinityValues: new Map(),
  };
  for (const segment of segments) collect(segment.rule, references);
  return references;
}

/** When a score decaying with a half-life from `score` at `from` reaches `value` (none if never). */
function decayCrossing(score: number, from: number, value: number, halfLifeDays: number): number[] {
  return [value - ROUNDING, value, value + ROUNDING]
    .filter((target) => target > 0 && target < score)
    .map((target) => from + Math.log2(score / target) * halfLifeDays * DAY_MS + 1);
}

/**
 * The instants after which something a segment rule reads may change with no new event: a day of
 * events leaving an `withinDays` window, an order leaving an RFM window, recency reaching a value the
 * rules compare with, a decaying score crossing one.
 */
function candidates(
  model: Pick<ProfileModel, 'state'>,
  references: TimeReferences,
  settings: ProfileSettings,
): number[] {
  const { state } = model;
  const instants: number[] = [];
  for (const { event, withinDays } of references.eventWindows) {
    for (const day of Object.keys(state.eventDays[event] ?? {})) {
      // A day counts while it is on or after the window's first day: it leaves at the start of day+N+1.
      instants.push(Date.parse(`${day}T00:00:00.000Z`) + (withinDays + 1) * DAY_MS);
    }
  }
  const last = state.orders[state.orders.length - 1];
  if (last) {
    const lastAt = Date.parse(last.at);
    const days = [
      ...references.recencyValues.flatMap((value) => [Math.ceil(value), Math.floor(value) + 1]),
      ...(references.recencyScore ? settings.recencyDays.map((threshold) => threshold + 1) : []),
    ];
    for (const day of days) if (day > 0) instants.push(lastAt + day * DAY_MS);
  }
  if (references.orderWindows) {
    const windows = [settings.rfmWindowDays, ...settings.rfmWindows];
    for (const order of state.orders) {
      if (order.refunded) continue;
      for (const window of windows) instants.push(Date.parse(order.at) + window * DAY_MS + 1);
    }
  }
  if (state.engagement) {
    const from = Date.parse(state.engagement.at);
    for (const value of references.engagementValues)
      instants.push(...decayCrossing(state.engagement.score, from, value, settings.engagementHalfLifeDays));
  }
  if (state.affinityAt) {
    const from = Date.parse(state.affinityAt);
    for (const [category, values] of references.affinityValues) {
      const weight = state.affinity[category];
      if (weight === undefined) continue;
      for (const value of values)
        instants.push(...decayCrossing(weight, from, value, settings.affinityHalfLifeDays));
    }
  }
  return instants.filter((instant) => Number.isFinite(instant));
}

/** The ids of the segments a profile belongs to at `now`, sorted. */
export function membershipAt(
  model: Pick<ProfileModel, 'traits' | 'state'>,
  segments: readonly Segment[],
  now: number,
  settings: ProfileSettings,
): string[] {
  const context = {
    traits: model.traits,
    computed: computeAttributes(model.state, now, settings) as Record<string, unknown>,
    eventDays: model.state.eventDays,
    now,
  };
  return segments
    .filter((segment) => evaluate(segment.rule, context))
    .map((segment) => segment.segmentId)
    .sort();
}

/**
 * The first instant after `now` at which the profile's segment membership changes by time alone (no
 * new event), or undefined when it never does. Membership is evaluated at each instant something a
 * rule reads may change, in order, so only a real change is scheduled.
 */
export function nextMembershipChange(
  model: Pick<ProfileModel, 'traits' | 'state'>,
  segments: readonly Segment[],
  now: number,
  settings: ProfileSettings,
): number | undefined {
  if (segments.length === 0) return undefined;
  const instants = [...new Set(candidates(model, timeReferences(segments), settings))]
    .filter((instant) => instant > now)
    .sort((a, b) => a - b);
  if (instants.length === 0) return undefined;
  const current = membershipAt(model, segments, now, settings).join('\n');
  const looked = instants.slice(0, MAX_INSTANTS);
  const change = looked.find(
    (instant) => membershipAt(model, segments, instant, settings).join('\n') !== current,
  );
  // Past the instants looked at, a review there looks further (it changes nothing if nothing changes).
  return change ?? (instants.length > MAX_INSTANTS ? looked[looked.length - 1] : undefined);
}
