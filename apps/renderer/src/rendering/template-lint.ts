import { type EmailTemplate } from '../templates/email-template.js';
import { type DataField, fallbackKind } from '../templates/data-schema.js';
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

/**
 * The fields of a recommended item (`it.products[n]`): ProductDto and RecommendedItemDto of
 * @mesh/contracts (a test keeps the two in step; the render threads do not load the contracts).
 */
export const RECOMMENDED_ITEM_FIELDS = [
  'product_id',
  'sku',
  'category',
  'name',
  'brand',
  'price',
  'currency',
  'quantity',
  'url',
  'image_url',
  'score',
  'reason',
] as const;

const IDENTIFIER = '[A-Za-z_$][\\w$]*';
const PATH = `${IDENTIFIER}(?:\\.${IDENTIFIER})*`;
/** Array methods that keep the items, between a list and its loop: `it.products.slice(0, 3).forEach(`. */
const CHAIN = String.raw`(?:\.(?:slice|filter|sort|concat|reverse|toSorted|toReversed)\((?:[^()]|\([^()]*\))*\))*`;
/** A callback's first parameter: `function (p`, `function name(p`, `(p`, `p =>`, `({ name, price }`. */
const FIRST_PARAMETER = String.raw`(?:function\s*(?:${IDENTIFIER})?\s*\(\s*|\(\s*)?(?:(${IDENTIFIER})|\{([^}]*)\})`;
const LOOPS = [
  // it.products.forEach(function (product) … / .map((p, i) => … / .filter(p => …
  new RegExp(
    String.raw`\bit\.(${PATH})${CHAIN}\.(?:forEach|map|flatMap|filter|find|findLast|some|every)\(\s*${FIRST_PARAMETER}`,
    'g',
  ),
  // for (const product of it.products) …
  new RegExp(
    String.raw`\bfor\s*\(\s*(?:const|let|var)\s+(?:(${IDENTIFIER})|\{([^}]*)\})\s+of\s+it\.(${PATH})${CHAIN}\s*\)`,
    'g',
  ),
];
/** Other names that shadow a loop variable: declarations and callbacks over other lists. */
const OTHER_BINDINGS = [
  new RegExp(String.raw`\b(?:const|let|var)\s+(${IDENTIFIER})\s*(?:=|\bof\b|\bin\b)`, 'g'),
  new RegExp(
    String.raw`\.(?:forEach|map|flatMap|filter|find|findLast|some|every|reduce)\(\s*${FIRST_PARAMETER}`,
    'g',
  ),
];

interface Binding {
  name: string;
  at: number;
  /** The list it walks, with the fields of its items; undefined: a variable of another kind. */
  list?: { path: string; items: ReadonlySet<string> };
}

/** The code of a part's Eta tags, with everything else blanked (same length, so indexes still hold). */
function codeOf(source: string): string {
  let code = '';
  let last = 0;
  for (const tag of source.matchAll(ETA_TAG)) {
    code += source.slice(last, tag.index + 2).replace(/[^\n]/g, ' ') + tag[1]!;
    last = tag.index + tag[0].length - 2;
  }
  return code + source.slice(last).replace(/[^\n]/g, ' ');
}

/**
 * Fields read through loop variables over lists whose items are known (`products`, or a list field
 * declaring its `items`): `it.products.forEach((p) => p.nmae)` names no field of a product. A name
 * bound again (`const p = …`, a callback over another list) stops being followed.
 */
function loopProblems(part: string, source: string, fields: readonly DataField[]): string[] {
  const itemsOf = new Map<string, ReadonlySet<string>>();
  for (const field of fields) {
    if (field.type !== 'list') continue;
    if (field.items) itemsOf.set(field.path, new Set(field.items));
    else if (field.path === 'products') itemsOf.set(field.path, new Set(RECOMMENDED_ITEM_FIELDS));
  }
  if (itemsOf.size === 0) return [];
  const code = codeOf(source);
  const bindings: Binding[] = [];
  const loops: [number, number][] = [];
  const problems: string[] = [];
  const unknownField = (at: number, read: string, path: string, items: ReadonlySet<string>) =>
    problems.push(
      `${part} line ${lineAt(source, at)}: ${read} is not a field of an item of it.${path} (items have ${[...items].join(', ')})`,
    );
  const loop = (match: RegExpMatchArray, name?: string, destructured?: string, path?: string) => {
    loops.push([match.index!, match.index! + match[0].length]);
    const items = itemsOf.get(path!);
    if (name) bindings.push({ name, at: match.index!, ...(items ? { list: { path: path!, items } } : {}) });
    if (destructured === undefined || !items) return;
    for (const entry of destructured.split(',')) {
      const key = /^\s*([A-Za-z_$][\w$]*)/.exec(entry)?.[1];
      if (key && !items.has(key)) unknownField(match.index!, `{ ${key} }`, path!, items);
    }
  };
  for (const match of code.matchAll(LOOPS[0]!)) loop(match, match[2], match[3], match[1]);
  for (const match of code.matchAll(LOOPS[1]!)) loop(match, match[1], match[2], match[3]);
  for (const pattern of OTHER_BINDINGS) {
    for (const match of code.matchAll(pattern)) {
      const inLoop = loops.some(([start, end]) => match.index >= start && match.index < end);
      if (!inLoop && match[1]) bindings.push({ name: match[1], at: match.index });
    }
  }
  bindings.sort((a, b) => a.at - b.at);
  const names = [...new Set(bindings.filter((binding) => binding.list).map((binding) => binding.name))];
  for (const name of names) {
    const read = new RegExp(
      String.raw`(?<![\w$.])${name.replace(/\$/g, '\\$')}\s*(?:\?\.|\.)\s*(${IDENTIFIER})`,
      'g',
    );
    for (const match of code.matchAll(read)) {
      const binding = bindings.findLast((candidate) => candidate.name === name && candidate.at < match.index);
      if (!binding?.list || binding.list.items.has(match[1]!)) continue;
      unknownField(match.index, `${name}.${match[1]}`, binding.list.path, binding.list.items);
    }
  }
  return problems;
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
 * Fields read through loop variables over lists whose items are known are checked too (loopProblems).
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
    if (field.items && field.type !== 'list') {
      problems.push(`data: ${field.path} declares items but is not a list`);
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
    problems.push(...loopProblems(part, template[part], fields));
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
