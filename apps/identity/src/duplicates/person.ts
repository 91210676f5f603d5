import { type IdentifierDto } from '@mesh/contracts';
import { CmpStr } from 'cmpstr';

/** What fuzzy matching compares: the reserved traits of Segment's identify, normalized. */
export interface Person {
  firstName?: string;
  lastName?: string;
  birthday?: string;
  street?: string;
  postalCode?: string;
  city?: string;
  /** E.164 numbers. */
  phones: string[];
  /** Local parts of the e-mail addresses, letters and digits only. */
  emailNames: string[];
}

export interface Similarity {
  score: number;
  /** Per compared attribute: its similarity (0…1). */
  attributes: Record<string, number>;
}

const jaroWinkler = CmpStr.create().setMetric('jaroWinkler');
const levenshtein = CmpStr.create().setMetric('levenshtein');
const phonetic = CmpStr.create();

/** How much each attribute counts when both profiles have it. */
const WEIGHTS = {
  name: 0.35,
  birthday: 0.15,
  street: 0.15,
  postalCode: 0.1,
  phone: 0.15,
  email: 0.1,
} as const;
/** Below this much compared weight the score is scaled down: a name alone proves little. */
const ENOUGH_EVIDENCE = 0.6;

const STREET_WORDS: Record<string, string> = {
  street: 'st',
  str: 'st',
  strasse: 'st',
  straße: 'st',
  road: 'rd',
  avenue: 'ave',
  av: 'ave',
  drive: 'dr',
  lane: 'ln',
  boulevard: 'blvd',
  place: 'pl',
  court: 'ct',
};

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** Lower case, accents removed, letters, digits and single spaces only. */
export function simplify(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const simple = value
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9ß]+/g, ' ')
    .trim();
  return simple.length > 0 && simple.length <= 200 ? simple : undefined;
}

export function normalizeStreet(value: string | undefined): string | undefined {
  return simplify(value)
    ?.replace(/([a-z])(strasse|straße|str)\b/g, '$1 st')
    .split(' ')
    .map((word) => STREET_WORDS[word] ?? word)
    .join(' ');
}

function postalCode(value: unknown): string | undefined {
  const code = text(value)
    ?.toUpperCase()
    .replace(/[^A-Z0-9]/g, '');
  return code && code.length <= 12 ? code : undefined;
}

function birthday(value: unknown): string | undefined {
  const given = text(value);
  if (!given) return undefined;
  const date = new Date(given);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().slice(0, 10);
}

/** The person a profile's traits and identifiers describe (absent traits stay absent). */
export function personOf(traits: Record<string, unknown>, identifiers: readonly IdentifierDto[]): Person {
  const address = (
    typeof traits.address === 'object' && traits.address !== null ? traits.address : {}
  ) as Record<string, unknown>;
  let firstName = simplify(text(traits.first_name) ?? text(traits.firstName));
  let lastName = simplify(text(traits.last_name) ?? text(traits.lastName));
  const full = simplify(text(traits.name));
  if (full && !firstName && !lastName) {
    const words = full.split(' ');
    lastName = words.length > 1 ? words.pop() : full;
    firstName = words.length > 0 && words[0] !== lastName ? words.join(' ') : undefined;
  }
  return {
    ...(firstName ? { firstName } : {}),
    ...(lastName ? { lastName } : {}),
    ...optional('birthday', birthday(traits.birthday)),
    ...optional('street', normalizeStreet(text(address.street))),
    ...optional('postalCode', postalCode(address.postal_code ?? address.postalCode)),
    ...optional('city', simplify(text(address.city))),
    phones: identifiers
      .filter((identifier) => identifier.type === 'phone')
      .map((identifier) => identifier.value),
    emailNames: identifiers
      .filter((identifier) => identifier.type === 'email')
      .map((identifier) => identifier.value.slice(0, identifier.value.indexOf('@')).replace(/\+.*$/, ''))
      .map((local) => local.replace(/[^a-z0-9]/g, ''))
      .filter((local) => local.length >= 3),
  };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

const sound = (value: string) => phonetic.phoneticIndex(value.replace(/[^a-z]/g, ''), 'metaphone');

/**
 * Blocking keys: only profiles that share one are ever compared. Phonetic last name with postcode
 * (or birthday), the last seven digits of a phone (the part a country or trunk prefix does not
 * change), and the phonetic e-mail local part. None without a last name: a score needs one on both
 * sides (see similarity), so such a person is never compared.
 */
export function blockingKeys(person: Person): string[] {
  const keys = new Set<string>();
  if (!person.lastName) return [];
  const last = sound(person.lastName);
  if (last && person.postalCode) keys.add(`name-postcode:${last}:${person.postalCode}`);
  if (last && person.birthday) keys.add(`name-birthday:${last}:${person.birthday}`);
  for (const phone of person.phones) {
    const digits = phone.replace(/\D/g, '');
    if (digits.length >= 7) keys.add(`phone7:${digits.slice(-7)}`);
  }
  for (const local of person.emailNames) {
    const letters = local.replace(/[^a-z]/g, '');
    if (letters.length >= 4) keys.add(`email-sound:${sound(letters)}`);
  }
  return [...keys].filter((key) => !key.endsWith(':'));
}

const best = (as: readonly string[], bs: readonly string[], compare: (a: string, b: string) => number) =>
  Math.max(0, ...as.flatMap((a) => bs.map((b) => compare(a, b))));

function phoneSimilarity(a: string, b: string): number {
  const [da, db] = [a.replace(/\D/g, ''), b.replace(/\D/g, '')];
  if (da === db) return 1;
  if (da.slice(-7) === db.slice(-7)) return 0.9;
  // One mistyped digit.
  return levenshtein.compare(da, db) >= 1 - 1.5 / Math.max(da.length, db.length) ? 0.8 : 0;
}

function nameSimilarity(a: Person, b: Person): number | undefined {
  if (!a.lastName || !b.lastName) return undefined;
  const last = jaroWinkler.compare(a.lastName, b.lastName);
  if (!a.firstName || !b.firstName) return last * 0.9;
  const first = jaroWinkler.compare(a.firstName, b.firstName);
  // An initial matches a name that starts with it.
  const initial =
    (a.firstName.length === 1 || b.firstName.length === 1) && a.firstName[0] === b.firstName[0] ? 0.85 : 0;
  return (last + Math.max(first, initial)) / 2;
}

/** Weighted similarity over the attributes both have; scaled down when they share too few. */
export function similarity(a: Person, b: Person): Similarity {
  const attributes: Record<string, number> = {};
  const name = nameSimilarity(a, b);
  if (name !== undefined) attributes.name = name;
  if (a.birthday && b.birthday) attributes.birthday = a.birthday === b.birthday ? 1 : 0;
  if (a.street && b.street) attributes.street = jaroWinkler.compare(a.street, b.street);
  if (a.postalCode && b.postalCode) attributes.postalCode = a.postalCode === b.postalCode ? 1 : 0;
  // People have several numbers and addresses: a match is evidence, a difference is not.
  const phone = best(a.phones, b.phones, phoneSimilarity);
  if (phone >= 0.8) attributes.phone = phone;
  const email = best(a.emailNames, b.emailNames, (x, y) => jaroWinkler.compare(x, y));
  if (email >= 0.9) attributes.email = email;
  let weight = 0;
  let total = 0;
  for (const [attribute, value] of Object.entries(attributes)) {
    const w = WEIGHTS[attribute as keyof typeof WEIGHTS];
    weight += w;
    total += w * value;
  }
  if (weight === 0 || attributes.name === undefined) return { score: 0, attributes };
  const score = (total / weight) * Math.min(1, weight / ENOUGH_EVIDENCE);
  return { score: Math.round(score * 1000) / 1000, attributes };
}
