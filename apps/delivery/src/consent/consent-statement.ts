import { type ConsentStatement } from '../decisions/consent.repository.js';

/**
 * An email consent statement from an event (`{ channel, status, source, at }`, EVENTS.md) or from
 * enrichment's computed `consent.email`; undefined when it is not one.
 */
export function emailConsentOf(value: unknown, channelRequired = true): ConsentStatement | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { channel, status, source, at } = value as Record<string, unknown>;
  if (channelRequired && channel !== 'email') return undefined;
  if (status !== 'opted_in' && status !== 'opted_out') return undefined;
  if (typeof at !== 'string') return undefined;
  const when = new Date(at);
  if (Number.isNaN(when.getTime())) return undefined;
  return { status, source: typeof source === 'string' && source !== '' ? source : 'unknown', at: when };
}
