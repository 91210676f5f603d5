import { type IdentifierDto, type IdentifierType, type IngestedEventBase } from '@mesh/contracts';
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';

/** Types in the order a profile is keyed by when an event meets several unknown ones. */
export const PRIORITY: readonly IdentifierType[] = [
  'user_id',
  'crm_id',
  'email',
  'phone',
  'device_id',
  'anonymous_id',
  'custom',
];

const MAX_VALUE_LENGTH = 512;
const MAX_NAME_LENGTH = 128;

/** Which fields of an event carry identifiers beyond `userId`/`anonymousId`. */
export interface ExtractionOptions {
  /** Region assumed for phone numbers written without a country code (ISO 3166 alpha-2). */
  defaultRegion?: CountryCode;
  /** Trait names read as e-mail addresses. */
  emailTraits: readonly string[];
  /** Trait names read as phone numbers. */
  phoneTraits: readonly string[];
  /** Trait names read as CRM ids. */
  crmTraits: readonly string[];
  /** Trait names read as custom ids; the trait name becomes the identifier's `name`. */
  customTraits: readonly string[];
  /** Provider-specific e-mail rules (none by default); see `normalizeEmail`. */
  emailRules?: readonly EmailRule[];
}

export const DEFAULT_EXTRACTION: ExtractionOptions = {
  emailTraits: ['email'],
  phoneTraits: ['phone'],
  crmTraits: ['crmId', 'crm_id'],
  customTraits: [],
};

/** A value that looked like an identifier but was not kept, and why. */
export interface DroppedIdentifier {
  type: IdentifierType;
  source: string;
  reason: 'NOT_A_STRING' | 'EMPTY' | 'TOO_LONG' | 'INVALID_EMAIL' | 'INVALID_PHONE' | 'INVALID_NAME';
}

export interface Extraction {
  /** Normalized, deduplicated, highest priority first. */
  identifiers: IdentifierDto[];
  dropped: DroppedIdentifier[];
}

type Normalized = { value: string } | { reason: DroppedIdentifier['reason'] };

export function identifierKey(identifier: IdentifierDto): string {
  return `${identifier.type}:${identifier.name ? `${identifier.name}:` : ''}${identifier.value}`;
}

export function normalizeId(value: unknown): Normalized {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string') return { reason: 'NOT_A_STRING' };
  const id = value.trim();
  if (id === '') return { reason: 'EMPTY' };
  if (id.length > MAX_VALUE_LENGTH) return { reason: 'TOO_LONG' };
  return { value: id };
}

/**
 * Provider-specific e-mail rules, off unless configured (`IDENTITY_EMAIL_RULES`): they join addresses
 * that deliver to one mailbox, but also people who use tags to keep accounts apart.
 * - `gmail`: for gmail.com and googlemail.com, dots in the local part and a `+tag` are dropped and
 *   googlemail.com becomes gmail.com (`J.Doe+news@GoogleMail.com` → `jdoe@gmail.com`);
 * - `plus_tags`: a `+tag` is dropped for every domain (`ann+shop@example.com` → `ann@example.com`).
 */
export const EMAIL_RULES = ['gmail', 'plus_tags'] as const;
export type EmailRule = (typeof EMAIL_RULES)[number];

const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

/**
 * Trimmed and lower-cased, then the given provider rules applied (none by default). Idempotent: a
 * normalized address normalizes to itself under the same rules.
 */
export function normalizeEmail(value: unknown, rules: readonly EmailRule[] = []): Normalized {
  if (typeof value !== 'string') return { reason: 'NOT_A_STRING' };
  const email = value.trim().toLowerCase();
  if (email === '') return { reason: 'EMPTY' };
  if (email.length > 254) return { reason: 'TOO_LONG' };
  if (!/^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(email)) return { reason: 'INVALID_EMAIL' };
  return rules.length === 0 ? { value: email } : applyEmailRules(email, rules);
}

function applyEmailRules(email: string, rules: readonly EmailRule[]): Normalized {
  const at = email.indexOf('@');
  let local = email.slice(0, at);
  let domain = email.slice(at + 1);
  const gmail = rules.includes('gmail') && GMAIL_DOMAINS.has(domain);
  if (gmail || rules.includes('plus_tags')) {
    // A tag needs something before it: `+abc@…` is a name of its own, kept as it is.
    const plus = local.indexOf('+');
    if (plus > 0) local = local.slice(0, plus);
  }
  if (gmail) {
    local = local.replaceAll('.', '');
    domain = 'gmail.com';
  }
  return local === '' ? { reason: 'INVALID_EMAIL' } : { value: `${local}@${domain}` };
}

/** E.164 (`+4915112345678`); numbers that are not valid for their region are dropped. */
export function normalizePhone(value: unknown, defaultRegion?: CountryCode): Normalized {
  if (typeof value === 'number' && Number.isSafeInteger(value)) value = String(value);
  if (typeof value !== 'string') return { reason: 'NOT_A_STRING' };
  const text = value.trim();
  if (text === '') return { reason: 'EMPTY' };
  if (text.length > 64) return { reason: 'TOO_LONG' };
  const phone = parsePhoneNumberFromString(text, defaultRegion);
  return phone?.isValid() ? { value: phone.number } : { reason: 'INVALID_PHONE' };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Identifier names become part of stored keys: no `.`, no leading `$`, no `:` (the key separator). */
function validName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && /^[A-Za-z0-9_-]+$/.test(name);
}

const EXTERNAL_ID_TYPES: Record<string, IdentifierType> = {
  user_id: 'user_id',
  userId: 'user_id',
  anonymous_id: 'anonymous_id',
  anonymousId: 'anonymous_id',
  email: 'email',
  phone: 'phone',
  crm_id: 'crm_id',
  crmId: 'crm_id',
  device_id: 'device_id',
  deviceId: 'device_id',
};

/**
 * The identifiers an ingested event carries: `userId`, `anonymousId`, `context.device.id`,
 * `context.externalIds` (Segment's `[{ id, type }]`), and the configured trait names of the event's
 * traits and `context.traits`. Values are normalized; invalid ones are dropped with a reason.
 */
export function extractIdentifiers(
  event: IngestedEventBase & { traits?: unknown },
  options: ExtractionOptions = DEFAULT_EXTRACTION,
): Extraction {
  const identifiers = new Map<string, IdentifierDto>();
  const dropped: DroppedIdentifier[] = [];

  const add = (type: IdentifierType, raw: unknown, source: string, name?: string): void => {
    if (raw === undefined || raw === null) return;
    if (name !== undefined && !validName(name)) {
      dropped.push({ type, source, reason: 'INVALID_NAME' });
      return;
    }
    const normalized =
      type === 'email'
        ? normalizeEmail(raw, options.emailRules)
        : type === 'phone'
          ? normalizePhone(raw, options.defaultRegion)
          : normalizeId(raw);
    if ('reason' in normalized) {
      dropped.push({ type, source, reason: normalized.reason });
      return;
    }
    const identifier: IdentifierDto =
      name === undefined ? { type, value: normalized.value } : { type, name, value: normalized.value };
    identifiers.set(identifierKey(identifier), identifier);
  };

  add('user_id', event.userId, 'userId');
  add('anonymous_id', event.anonymousId, 'anonymousId');

  const context = isRecord(event.context) ? event.context : {};
  if (isRecord(context.device)) add('device_id', context.device.id, 'context.device.id');

  if (Array.isArray(context.externalIds)) {
    context.externalIds.forEach((external: unknown, index) => {
      const source = `context.externalIds[${index}]`;
      if (!isRecord(external) || typeof external.type !== 'string') {
        dropped.push({ type: 'custom', source, reason: 'INVALID_NAME' });
        return;
      }
      const known = EXTERNAL_ID_TYPES[external.type];
      if (known) add(known, external.id, source);
      else add('custom', external.id, source, external.type);
    });
  }

  const traitSources: [string, Record<string, unknown>][] = [];
  if (isRecord(event.traits)) traitSources.push(['traits', event.traits]);
  if (isRecord(context.traits)) traitSources.push(['context.traits', context.traits]);
  for (const [prefix, traits] of traitSources) {
    for (const name of options.emailTraits) add('email', traits[name], `${prefix}.${name}`);
    for (const name of options.phoneTraits) add('phone', traits[name], `${prefix}.${name}`);
    for (const name of options.crmTraits) add('crm_id', traits[name], `${prefix}.${name}`);
    for (const name of options.customTraits) add('custom', traits[name], `${prefix}.${name}`, name);
  }

  const sorted = [...identifiers.values()].sort(
    (a, b) => PRIORITY.indexOf(a.type) - PRIORITY.indexOf(b.type),
  );
  return { identifiers: sorted, dropped };
}

/** The identifiers an ingested event carries, normalized, highest priority first. */
export function identifiersOf(
  event: IngestedEventBase & { traits?: unknown },
  options: ExtractionOptions = DEFAULT_EXTRACTION,
): IdentifierDto[] {
  return extractIdentifiers(event, options).identifiers;
}
