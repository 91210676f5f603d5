import { type EmailTemplate } from '../templates/email-template.js';
import { fallbackKind } from '../templates/data-schema.js';
import { FALLBACK_HELPERS } from './data-fallbacks.js';
import { TEMPLATE_HELPERS } from './template-helpers.js';

/** What every send carries, so a template may read it without declaring it. */
const ALWAYS_PRESENT = ['campaign', 'event'];
const HELPERS = new Set([...Object.keys(TEMPLATE_HELPERS), ...Object.keys(FALLBACK_HELPERS)]);
const REFERENCE = /\bit((?:\.[A-Za-z_$][\w$]*)+)/g;
const ETA_TAG = /<%([\s\S]*?)%>/g;
const FALLBACK_CALL = /\bit\.fallback\(\s*(["'])([^"']+)\1\s*\)/g;

function lineAt(source: string, index: number): number {
  return source.slice(0, index).split('\n').length;
}

/** The `it.…` paths the Eta tags of a part read (helpers aside), with the line of each. */
function referencesIn(source: string): { path: string; line: number }[] {
  const references: { path: string; line: number }[] = [];
  for (const tag of source.matchAll(ETA_TAG)) {
    for (const match of tag[1]!.matchAll(REFERENCE)) {
      const path = match[1]!.slice(1);
      if (HELPERS.has(path.split('.')[0]!)) continue;
      references.push({ path, line: lineAt(source, tag.index + 2 + match.index) });
    }
  }
  return references;
}

function covers(declared: string, reference: string): boolean {
  // A declared field covers what is read inside it (`products.length`) and the objects on its way.
  return (
    reference === declared || reference.startsWith(`${declared}.`) || declared.startsWith(`${reference}.`)
  );
}

/**
 * Lint beyond compiling: every field a part reads is declared in the version's data schema, every
 * optional field has a fallback, and every static fallback block is placed with `it.fallback(path)`.
 * Fields read through loop variables (`product.name`) are not followed.
 */
export function lintTemplate(template: EmailTemplate): string[] {
  const problems: string[] = [];
  const fields = template.data ?? [];
  const declared = [...ALWAYS_PRESENT, ...fields.map((field) => field.path)];
  const seen = new Set<string>();
  for (const field of fields) {
    if (seen.has(field.path)) problems.push(`data: ${field.path} is declared twice`);
    seen.add(field.path);
    const kind = fallbackKind(field.fallback);
    if (!field.required && kind === undefined) {
      problems.push(
        `data: the optional field ${field.path} has no fallback (a default, a static block or an abort code)`,
      );
    }
    if (field.required && kind !== undefined) {
      problems.push(`data: the required field ${field.path} has a fallback; make it optional or drop it`);
    }
    if (kind === 'block') {
      const placed = [...`${template.html}\n${template.text}`.matchAll(FALLBACK_CALL)].some(
        (match) => match[2] === field.path,
      );
      if (!placed) {
        problems.push(
          `data: the static fallback block of ${field.path} is never placed with it.fallback("${field.path}")`,
        );
      }
    }
  }
  for (const part of ['subject', 'html', 'text'] as const) {
    for (const { path, line } of referencesIn(template[part])) {
      if (!declared.some((known) => covers(known, path))) {
        problems.push(`${part} line ${line}: it.${path} is not in the template's data schema`);
      }
    }
    for (const match of template[part].matchAll(FALLBACK_CALL)) {
      const field = fields.find((candidate) => candidate.path === match[2]);
      if (fallbackKind(field?.fallback) !== 'block') {
        problems.push(
          `${part} line ${lineAt(template[part], match.index)}: it.fallback("${match[2]}") names no field with a static fallback block`,
        );
      }
    }
  }
  return problems;
}
