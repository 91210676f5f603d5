import { type PartialView } from './partials.repository.js';

/** `{{> footer }}` in any part includes the partial `footer`; a layout places the html at `{{> body }}`. */
export const INCLUDE = /\{\{>\s*([a-z0-9][a-z0-9_-]{0,127})\s*\}\}/g;
const MAX_DEPTH = 5;

export function includedNames(source: string): string[] {
  return [...source.matchAll(INCLUDE)].map((match) => match[1]!).filter((name) => name !== 'body');
}

/**
 * Replaces the includes of a part with the partials' sources (nested up to five levels), so a
 * published version keeps the partials as they were at publish. Problems name the part and line.
 */
export function resolvePartials(
  part: string,
  source: string,
  partials: ReadonlyMap<string, PartialView>,
  used: Map<string, number>,
  problems: string[],
  depth = 0,
): string {
  return source.replace(INCLUDE, (whole, name: string, offset: number) => {
    if (name === 'body') return whole;
    const line = source.slice(0, offset).split('\n').length;
    const partial = partials.get(name);
    if (!partial) {
      problems.push(`${part} line ${line}: the partial "${name}" is not registered`);
      return '';
    }
    if (depth >= MAX_DEPTH) {
      problems.push(`${part} line ${line}: partials nest deeper than ${MAX_DEPTH} at "${name}" (a cycle?)`);
      return '';
    }
    used.set(name, partial.version);
    return resolvePartials(part, partial.source, partials, used, problems, depth + 1);
  });
}
