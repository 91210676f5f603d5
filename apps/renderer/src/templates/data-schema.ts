/** The kinds of value a declared field holds; a value of another kind counts as missing. */
export const FIELD_TYPES = ['string', 'number', 'boolean', 'date', 'list', 'object'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/**
 * What happens when an optional field is missing: print a default value, place a static block
 * (`<%= it.fallback("products") %>`), or abort the render with a reason code.
 */
export interface FieldFallback {
  default?: string | number;
  /** Static HTML for the html part; `blockText` (or the block without its tags) for the text part. */
  block?: string;
  blockText?: string;
  /** A reason code such as `NO_PRODUCTS`, published in `renderer.failed`. */
  abort?: string;
  reason?: string;
}

/** One field a template version reads, by its path under `it` (`first_name`, `computed.rfm_segment`). */
export interface DataField {
  path: string;
  type: FieldType;
  /** A required field that is missing fails the render as MISSING_DATA; an optional one needs a fallback. */
  required?: boolean;
  fallback?: FieldFallback;
  /**
   * For a list of objects: the fields each item has, checked where a loop reads them
   * (`it.offers.forEach((offer) => offer.title)`). `products` has the fields of a recommended item
   * unless it says otherwise.
   */
  items?: string[];
}

export type FallbackKind = 'default' | 'block' | 'abort';

/** A fallback that fired in one render; reported in `renderer.rendered` and in previews. */
export interface FiredFallback {
  field: string;
  kind: 'default' | 'block';
}

export function fallbackKind(fallback: FieldFallback | undefined): FallbackKind | undefined {
  if (!fallback) return undefined;
  if (fallback.abort !== undefined) return 'abort';
  if (fallback.block !== undefined) return 'block';
  if (fallback.default !== undefined) return 'default';
  return undefined;
}
