import { convert } from 'html-to-text';

const TEXT_OPTIONS = {
  wordwrap: 78,
  selectors: [
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
  ],
};

/** The text part of an email whose template has none (costly: milliseconds for a typical email). */
export function textFromHtml(html: string): string {
  return convert(html, TEXT_OPTIONS).trim();
}

/** A text made from a template's html (textTemplateFromHtml): the blank lines its code tags left, gone. */
export function tidyText(text: string): string {
  return text
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const ETA_TAG = /<%[\s\S]*?%>/g;
const TOKEN = /QZ(\d+)ZQ/g;

/**
 * A text part template made from an html template once, at publish, so renders need not convert each
 * rendered html (textFromHtml). Each Eta tag is swapped for a token, the html converted, the tokens
 * swapped back. Kept only when the code is intact: every tag that is not an output (`<%= %>`) comes
 * back once and in order, and every output tag that comes back stays between the same code tags (an
 * output tag may be dropped, e.g. an image's src). Otherwise (or with `it.raw`, whose HTML the text
 * would print as markup) undefined: renders convert their html as before. Lines are wrapped by the
 * length of the tokens, so the text's wrapping is approximate.
 */
export function textTemplateFromHtml(html: string): string | undefined {
  if (/\bit\.raw\s*\(/.test(html) || /QZ\d+ZQ/.test(html)) return undefined;
  const tags: { source: string; output: boolean; codeBefore: number }[] = [];
  let code = 0;
  const marked = html.replace(ETA_TAG, (source) => {
    const output = /^<%[-_]?\s*=/.test(source);
    tags.push({ source, output, codeBefore: code });
    if (!output) code += 1;
    return `QZ${tags.length - 1}ZQ`;
  });
  const text = convert(marked, TEXT_OPTIONS).trim();
  // Entities decoded by the conversion must not make new Eta tags.
  if (text.includes('<%') || text.includes('%>')) return undefined;
  let codeSeen = 0;
  const seen = new Set<number>();
  for (const match of text.matchAll(TOKEN)) {
    const index = Number(match[1]);
    const tag = tags[index];
    if (!tag || seen.has(index)) return undefined;
    seen.add(index);
    if (tag.output ? tag.codeBefore !== codeSeen : tag.codeBefore !== codeSeen++) return undefined;
  }
  if (codeSeen !== code) return undefined;
  return text.replace(TOKEN, (_, index: string) => tags[Number(index)]!.source);
}

const URL_ATTRIBUTE =
  /(\s(?:href|src|action|formaction|background|poster|xlink:href)\s*=\s*)("[^"]*"|'[^']*'|[^\s"'>]+)/gi;
const UNSAFE_SCHEME = /^(?:javascript|vbscript|data):/i;
const PLAIN_START = /^(?:(?:https?|mailto|tel|cid):|[#/?]|$)/i;
/**
 * Whether any URL attribute (as URL_ATTRIBUTE finds them) has a value that does not start plainly
 * (PLAIN_START): one scan from `=` to `=` (the attribute name is looked behind), far quicker than the
 * full pass, which most rendered emails then skip. Whitespace before a value cannot be given back to
 * hide it (the value may not start with whitespace), so it may say yes too often, never too rarely.
 */
const MAYBE_UNSAFE_URL =
  /(?<=\s(?:href|src|action|formaction|background|poster|xlink:href)\s*)=\s*(?:["'](?!(?:https?|mailto|tel|cid):|[#/?"'])|(?![\s"'>#/?]|(?:https?|mailto|tel|cid):))/i;

function decodeEntities(value: string): string {
  return value
    .replace(/&#x([0-9a-f]+);?/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);?/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&colon;/gi, ':')
    .replace(/&tab;|&newline;/gi, '');
}

/**
 * Links and sources with a `javascript:`, `vbscript:` or `data:` URL become `#` (mail clients and
 * the preview page would run or load them); returns how many were neutralized.
 */
export function neutralizeUnsafeUrls(html: string): { html: string; neutralized: number } {
  if (!MAYBE_UNSAFE_URL.test(html)) return { html, neutralized: 0 };
  let neutralized = 0;
  const safe = html.replace(URL_ATTRIBUTE, (whole, prefix: string, quoted: string) => {
    const value = /^["']/.test(quoted) ? quoted.slice(1, -1) : quoted;
    // Most links start with a plain scheme or a path: nothing can hide another scheme in front.
    if (PLAIN_START.test(value)) return whole;
    // Browsers ignore whitespace and control characters inside a scheme: `java\tscript:`.
    // eslint-disable-next-line no-control-regex
    const scheme = decodeEntities(value).replace(/[\u0000-\u0020]/g, '');
    if (!UNSAFE_SCHEME.test(scheme)) return whole;
    neutralized += 1;
    return `${prefix}"#"`;
  });
  return { html: safe, neutralized };
}
