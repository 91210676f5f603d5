import { convert } from 'html-to-text';

/** The text part of an email whose template has none. */
export function textFromHtml(html: string): string {
  return convert(html, {
    wordwrap: 78,
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    ],
  }).trim();
}

const URL_ATTRIBUTE =
  /(\s(?:href|src|action|formaction|background|poster|xlink:href)\s*=\s*)("[^"]*"|'[^']*'|[^\s"'>]+)/gi;
const UNSAFE_SCHEME = /^(?:javascript|vbscript|data):/i;
const PLAIN_START = /^(?:(?:https?|mailto|tel|cid):|[#/?]|$)/i;
/**
 * A URL attribute's name up to its value (URL_ATTRIBUTE's prefix without the space before it, which
 * is checked by hand: a pattern starting with `\s` is tried at every space and is slow).
 */
const URL_ATTRIBUTE_START = /(?:href|src|action|formaction|background|poster|xlink:href)\s*=\s*/gi;

/**
 * Whether any URL attribute (as URL_ATTRIBUTE finds them) has a value that does not start plainly
 * (PLAIN_START). Most rendered emails have none, and the full pass is skipped. It may say yes too
 * often, never too rarely.
 */
function mayHaveUnsafeUrl(html: string): boolean {
  URL_ATTRIBUTE_START.lastIndex = 0;
  for (let match = URL_ATTRIBUTE_START.exec(html); match; match = URL_ATTRIBUTE_START.exec(html)) {
    if (!/\s/.test(html[match.index - 1] ?? '')) continue;
    const value = match.index + match[0].length;
    const quote = html[value];
    const quoted = quote === '"' || quote === "'";
    const head = html.slice(quoted ? value + 1 : value, value + 16);
    if (quoted ? head.startsWith(quote) : head === '' || head.startsWith('>')) continue;
    if (!PLAIN_START.test(head)) return true;
  }
  return false;
}

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
  if (!mayHaveUnsafeUrl(html)) return { html, neutralized: 0 };
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
