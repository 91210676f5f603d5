import { type IdentifierDto, type IdentifierType, type IngestedEventBase } from '@mesh/contracts';

/** Types in the order a profile is keyed by when an event meets several unknown ones. */
const PRIORITY: readonly IdentifierType[] = [
  'user_id',
  'crm_id',
  'email',
  'phone',
  'device_id',
  'anonymous_id',
  'custom',
];

export function identifierKey(identifier: IdentifierDto): string {
  return `${identifier.type}:${identifier.name ? `${identifier.name}:` : ''}${identifier.value}`;
}

function normalizeEmail(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const email = value.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? email : undefined;
}

function normalizeId(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const id = String(value).trim();
  return id === '' ? undefined : id;
}

/**
 * The identifiers an ingested event carries, normalized, highest priority first. The full rules
 * (phones, custom ids, provider-specific email rules) grow here.
 */
export function identifiersOf(
  event: IngestedEventBase & { traits?: Record<string, unknown> },
): IdentifierDto[] {
  const contextTraits = (event.context?.traits ?? {}) as Record<string, unknown>;
  const candidates: [IdentifierType, string | undefined][] = [
    ['user_id', normalizeId(event.userId)],
    ['anonymous_id', normalizeId(event.anonymousId)],
    ['email', normalizeEmail(event.traits?.email ?? contextTraits.email)],
  ];
  const found = candidates
    .filter((candidate): candidate is [IdentifierType, string] => candidate[1] !== undefined)
    .map(([type, value]) => ({ type, value }));
  return found.sort((a, b) => PRIORITY.indexOf(a.type) - PRIORITY.indexOf(b.type));
}
