import { type DataField, fallbackKind, type FiredFallback } from '../templates/data-schema.js';
import { MissingDataError, RawHtml, RenderAbort } from './template-helpers.js';

/** Per render: the static blocks whose fields were missing, read by `it.fallback(path)`. */
export const FALLBACK_BLOCKS = Symbol('fallbackBlocks');
/** Per render: every field whose fallback fired, read by `it.has(path)`. */
export const FALLEN_BACK = Symbol('fallenBack');
/** Which part is being rendered, so `it.fallback(path)` prints HTML or text. */
export const RENDERING_PART = Symbol('renderingPart');

export interface FallbackState {
  [FALLBACK_BLOCKS]?: Map<string, { html: string; text: string }>;
  [FALLEN_BACK]?: Set<string>;
  [RENDERING_PART]?: 'html' | 'text';
}

function valueAt(data: Record<string, unknown>, path: string): unknown {
  let value: unknown = data;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Sets a value at a path, copying the objects on the way so shared input (the intent) is not changed. */
function setAt(data: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let target = data;
  for (const key of keys.slice(0, -1)) {
    const next = target[key];
    const copy = next !== null && typeof next === 'object' && !Array.isArray(next) ? { ...next } : {};
    target[key] = copy;
    target = copy;
  }
  target[keys.at(-1)!] = value;
}

function isPresent(field: DataField, value: unknown): boolean {
  switch (field.type) {
    case 'string':
      return typeof value === 'string' && value.trim() !== '';
    case 'number':
      return (
        (typeof value === 'number' && Number.isFinite(value)) ||
        (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
      );
    case 'boolean':
      return typeof value === 'boolean';
    case 'date':
      return (
        (typeof value === 'string' || typeof value === 'number' || value instanceof Date) &&
        !Number.isNaN(new Date(value).getTime())
      );
    case 'list':
      return Array.isArray(value) && value.length > 0;
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
  }
}

function textOf(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}

/**
 * Applies a version's declared data to one render's data, in place: a missing field takes its default,
 * arms its static block, or aborts the render with its reason code; a missing required field fails it
 * as MISSING_DATA. Returns the fallbacks that fired.
 */
export function applyDataSchema(
  fields: readonly DataField[] | undefined,
  data: Record<string, unknown> & FallbackState,
): FiredFallback[] {
  const fired: FiredFallback[] = [];
  if (!fields) return fired;
  for (const field of fields) {
    if (isPresent(field, valueAt(data, field.path))) continue;
    const kind = fallbackKind(field.fallback);
    const fallback = field.fallback!;
    switch (kind) {
      case 'abort':
        throw new RenderAbort(fallback.abort!, fallback.reason ?? `${field.path} is missing`);
      case 'default':
        setAt(data, field.path, fallback.default);
        (data[FALLEN_BACK] ??= new Set()).add(field.path);
        fired.push({ field: field.path, kind });
        break;
      case 'block': {
        const blocks = (data[FALLBACK_BLOCKS] ??= new Map());
        blocks.set(field.path, {
          html: fallback.block!,
          text: fallback.blockText ?? textOf(fallback.block!),
        });
        (data[FALLEN_BACK] ??= new Set()).add(field.path);
        fired.push({ field: field.path, kind });
        break;
      }
      case undefined:
        if (field.required) throw new MissingDataError(`the required field ${field.path} is missing`);
        break;
    }
  }
  return fired;
}

/** Helpers that read the per-render fallback state; called as methods of `it`. */
export const FALLBACK_HELPERS = {
  /** `<%= it.fallback("products") %>`: the field's static block when it was missing, else nothing. */
  fallback(this: FallbackState, path: string): RawHtml | string {
    const block = this[FALLBACK_BLOCKS]?.get(path);
    if (!block) return '';
    return this[RENDERING_PART] === 'text' ? block.text : new RawHtml(block.html);
  },
  /**
   * Whether a declared field came with the data (its fallback did not fire):
   * `<% if (it.has("products")) { %>…<% } else { %><%= it.fallback("products") %><% } %>`.
   */
  has(this: FallbackState, path: string): boolean {
    return !this[FALLEN_BACK]?.has(path);
  },
};
