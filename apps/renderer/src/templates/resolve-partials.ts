import { type EmailTemplate } from './email-template.js';
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

/**
 * A version's parts as sends render them: its layout around its html, and the partials of every
 * part put in (as they are now), with the partials used and their versions, and what went wrong.
 */
export function resolveVersion(
  version: EmailTemplate,
  partials: ReadonlyMap<string, PartialView>,
): { resolved: EmailTemplate; used: Map<string, number>; problems: string[] } {
  const used = new Map<string, number>();
  const problems: string[] = [];
  let html = version.html;
  if (version.layout) {
    const layout = partials.get(version.layout);
    if (!layout) problems.push(`layout: the layout "${version.layout}" is not registered`);
    else if (!/\{\{>\s*body\s*\}\}/.test(layout.source)) {
      problems.push(`layout: "${version.layout}" has no {{> body }} to place the html in`);
    } else {
      used.set(layout.name, layout.version);
      html = layout.source.replace(/\{\{>\s*body\s*\}\}/, () => version.html);
    }
  }
  const resolved: EmailTemplate = {
    ...version,
    subject: resolvePartials('subject', version.subject, partials, used, problems),
    html: resolvePartials('html', html, partials, used, problems),
    text: resolvePartials('text', version.text, partials, used, problems),
  };
  return { resolved, used, problems };
}
