import { JSONPath } from 'jsonpath-plus';

/**
 * How one field of a mapped event is read from a webhook's JSON:
 * - a JSONPath string (`$.customer.email`): its first match, as sent;
 * - `{ path, as }`: the first match converted (`number` for amounts sent as strings, `string` for
 *   numeric ids, `timestamp` for date-times, read as UTC when they carry no offset);
 * - `{ path, each }`: every match of `path` (e.g. `$.line_items[*]`) mapped with `each`, relative to it;
 * - `{ fields }`: an object built from the fields;
 * - `{ value }`: a constant.
 * A field whose path matches nothing (or null, or '') is left out.
 */
export type FieldSpec =
  | string
  | { path: string; as: 'number' | 'string' | 'timestamp' }
  | { path: string; each: Record<string, FieldSpec> }
  | { fields: Record<string, FieldSpec> }
  | { value: string | number | boolean };

/** One kind of webhook (by its topic) and the track or identify call it becomes. */
export interface MappingRule {
  /** The sender's topic (from `topicHeader`) this rule is for. */
  topic: string;
  type: 'track' | 'identify';
  /** The track call's event name (EVENTS.md). */
  event?: string;
  /** userId; empty values (null, '', 0) count as absent. */
  userId?: FieldSpec;
  /** Used when there is no userId (guest orders). */
  anonymousId?: FieldSpec;
  timestamp?: FieldSpec;
  properties?: Record<string, FieldSpec>;
  traits?: Record<string, FieldSpec>;
  /** Traits sent along with a track call (`context.traits`) so identity can link the person. */
  contextTraits?: Record<string, FieldSpec>;
}

export interface WebhookMapping {
  name: string;
  /** The header naming what happened, e.g. `x-shopify-topic`; `x-mesh-topic` always works too. */
  topicHeader: string;
  /** The header carrying the sender's delivery id, stable across its retries. */
  deliveryIdHeader: string;
  rules: MappingRule[];
}

/** A mapped call, shaped as the tracking API's request body. */
export interface MappedCall {
  type: 'track' | 'identify';
  body: Record<string, unknown>;
}

const first = (path: string, json: unknown): unknown => {
  if (json === null || typeof json !== 'object') return undefined;
  // eval: false — paths are ours, but no script expression should ever run on a sender's JSON.
  const matches = JSONPath({ path, json, wrap: true, eval: false }) as unknown[];
  return matches[0] ?? undefined;
};

const all = (path: string, json: unknown): unknown[] =>
  json === null || typeof json !== 'object'
    ? []
    : (JSONPath({ path, json, wrap: true, eval: false }) as unknown[]);

function convert(value: unknown, as: 'number' | 'string' | 'timestamp'): unknown {
  if (value === undefined || value === null || value === '') return undefined;
  switch (as) {
    case 'number': {
      const number = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(number) ? number : undefined;
    }
    case 'string':
      return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
    case 'timestamp': {
      if (typeof value !== 'string') return undefined;
      const withZone = /(Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : `${value}Z`;
      const time = Date.parse(withZone);
      return Number.isNaN(time) ? undefined : new Date(time).toISOString();
    }
  }
}

export function readField(spec: FieldSpec, json: unknown): unknown {
  if (typeof spec === 'string') return first(spec, json) ?? undefined;
  if ('value' in spec) return spec.value;
  if ('fields' in spec) {
    const object = readFields(spec.fields, json);
    return Object.keys(object).length > 0 ? object : undefined;
  }
  if ('each' in spec) return all(spec.path, json).map((item) => readFields(spec.each, item));
  return convert(first(spec.path, json), spec.as);
}

function readFields(specs: Record<string, FieldSpec>, json: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = readField(spec, json);
    if (value !== undefined && value !== null && value !== '') result[name] = value;
  }
  return result;
}

const readId = (spec: FieldSpec | undefined, json: unknown): string | undefined => {
  if (spec === undefined) return undefined;
  const value = readField(spec, json);
  if (value === null || value === undefined || value === '' || value === 0 || value === '0') return undefined;
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
};

/** The calls a webhook becomes: one per rule of its topic (none for topics the mapping ignores). */
export function applyMapping(
  mapping: WebhookMapping,
  topic: string | undefined,
  json: unknown,
): MappedCall[] {
  return mapping.rules
    .filter((rule) => rule.topic === topic)
    .map((rule) => {
      const userId = readId(rule.userId, json);
      const anonymousId = userId === undefined ? readId(rule.anonymousId, json) : undefined;
      const timestamp = rule.timestamp === undefined ? undefined : readField(rule.timestamp, json);
      const contextTraits = rule.contextTraits ? readFields(rule.contextTraits, json) : {};
      const body: Record<string, unknown> = {
        ...(userId === undefined ? {} : { userId }),
        ...(anonymousId === undefined ? {} : { anonymousId }),
        ...(timestamp === undefined ? {} : { timestamp }),
        ...(Object.keys(contextTraits).length > 0 ? { context: { traits: contextTraits } } : {}),
      };
      if (rule.type === 'track') {
        return {
          type: 'track',
          body: { ...body, event: rule.event, properties: readFields(rule.properties ?? {}, json) },
        };
      }
      return { type: 'identify', body: { ...body, traits: readFields(rule.traits ?? {}, json) } };
    });
}
