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
