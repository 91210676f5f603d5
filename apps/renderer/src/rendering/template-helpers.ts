/** HTML a template author marked as safe with `it.raw(...)`: the one way past auto-escaping. */
export class RawHtml {
  constructor(readonly html: string) {}

  toString(): string {
    return this.html;
  }
}

/** A template that gave up on purpose (`it.abort(code, reason)`); published as `renderer.failed`. */
export class RenderAbort extends Error {
  constructor(
    readonly code: string,
    reason: string,
  ) {
    super(reason);
    this.name = 'RenderAbort';
  }
}

/** An interpolation of missing or non-printable data, which would reach the reader as `undefined`. */
export class MissingDataError extends Error {
  readonly code = 'MISSING_DATA';
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

const HTML_SPECIAL = /[&<>"']/;
const HTML_SPECIALS = /[&<>"']/g;

/** Escapes everything but values marked with `it.raw`. */
export function escapeHtml(value: unknown): string {
  if (value instanceof RawHtml) return value.html;
  const text = String(value);
  return HTML_SPECIAL.test(text) ? text.replace(HTML_SPECIALS, (char) => ESCAPES[char]!) : text;
}

/**
 * Checks every `<%= %>` value before it is printed: missing data, `NaN` and objects abort the render
 * rather than show `undefined`, `NaN` or `[object Object]`; templates say what to print instead
 * (`it.or(value, "fallback")`, `??`).
 */
export function printable(value: unknown): unknown {
  if (value === undefined || value === null) {
    throw new MissingDataError(`a template printed a missing value (${String(value)}); give it a fallback`);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new MissingDataError(`a template printed a number that is not finite (${value})`);
  }
  if (typeof value === 'object' && !(value instanceof RawHtml) && !(value instanceof Date)) {
    throw new MissingDataError('a template printed an object or a list; print one of its fields');
  }
  return value;
}

const FORBIDDEN_IN_OUTPUT = /undefined|\bNaN\b|\[object Object\]/;

/** The last guard on a finished part: what no reader should ever see. */
export function assertComplete(part: string, value: string): void {
  const match = FORBIDDEN_IN_OUTPUT.exec(value);
  if (match) throw new MissingDataError(`the rendered ${part} contains "${match[0]}"`);
}

function isBlank(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    (typeof value === 'number' && !Number.isFinite(value)) ||
    (typeof value === 'string' && value.trim() === '') ||
    (Array.isArray(value) && value.length === 0)
  );
}

/**
 * Intl formatters are costly to build (tens of microseconds each, more than a whole render) and
 * immutable: one per locale/currency (or locale/time zone), kept for the life of the thread. The keys
 * come from profile data, so the caches are bounded; a full cache is cleared, not grown.
 */
const FORMATTER_CACHE_LIMIT = 500;
const moneyFormats = new Map<string, Intl.NumberFormat | null>();
const dateFormats = new Map<string, Intl.DateTimeFormat | null>();

function cached<F>(cache: Map<string, F | null>, key: string, make: () => F): F | null {
  let format = cache.get(key);
  if (format === undefined) {
    try {
      format = make();
    } catch {
      format = null; // an unknown locale, currency or time zone: the caller prints a plain value
    }
    if (cache.size >= FORMATTER_CACHE_LIMIT) cache.clear();
    cache.set(key, format);
  }
  return format;
}

/** Helpers every template sees on `it`. */
export const TEMPLATE_HELPERS = {
  /** `it.or(it.first_name, "there")`: the value, or the fallback when it is missing or blank. */
  or<T, F>(value: T, fallback: F): T | F {
    return isBlank(value) ? fallback : value;
  },
  /** `it.money(59, "EUR", "de-DE")` → `59,00 €`; an unknown currency prints the plain amount. */
  money(amount: unknown, currency: unknown = 'EUR', locale: unknown = 'en-US'): string {
    const value = typeof amount === 'string' ? Number(amount) : amount;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new MissingDataError(`money() got no amount (${String(amount)})`);
    }
    const format = cached(
      moneyFormats,
      `${String(locale)}\u0000${String(currency)}`,
      () => new Intl.NumberFormat(String(locale), { style: 'currency', currency: String(currency) }),
    );
    return format ? format.format(value) : value.toFixed(2);
  },
  /** `it.date("2026-11-28T10:00:00Z", "en-GB")` → `28 November 2026`. */
  date(value: unknown, locale: unknown = 'en-US', timeZone: unknown = 'UTC'): string {
    const date = value instanceof Date ? value : new Date(String(value));
    if (value === undefined || value === null || Number.isNaN(date.getTime())) {
      throw new MissingDataError(`date() got no date (${String(value)})`);
    }
    const format = cached(
      dateFormats,
      `${String(locale)}\u0000${String(timeZone)}`,
      () => new Intl.DateTimeFormat(String(locale), { dateStyle: 'long', timeZone: String(timeZone) }),
    );
    return format ? format.format(date) : date.toISOString().slice(0, 10);
  },
  /** `it.plural(n, "item", "items")` → `1 item`, `3 items`. */
  plural(count: unknown, one: string, many: string): string {
    const n = Number(count ?? 0);
    return `${Number.isFinite(n) ? n : 0} ${n === 1 ? one : many}`;
  },
  /** Marks reviewed HTML as safe; everything else printed with `<%= %>` is escaped. */
  raw(html: unknown): RawHtml {
    if (typeof html !== 'string') throw new MissingDataError('raw() takes a string of reviewed HTML');
    return new RawHtml(html);
  },
  /** `<% if (!it.products.length) it.abort("NO_PRODUCTS", "nothing to recommend") %>`. */
  abort(code: string, reason: string): never {
    throw new RenderAbort(code, reason);
  },
};
