const ANCHOR_HREF = /(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2/gis;
const TEXT_URL = /https?:\/\/[^\s<>"'()[\]]+/g;

const decodeAttribute = (value: string) =>
  value
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/gi, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#38;|&amp;/g, '&');

const encodeAttribute = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Replaces each `<a href>` whose target `rewrite` maps (undefined leaves it as it is). */
export function rewriteHtmlLinks(html: string, rewrite: (url: string) => string | undefined): string {
  return html.replace(ANCHOR_HREF, (whole, start: string, _quote: string, href: string) => {
    const replaced = rewrite(decodeAttribute(href.trim()));
    return replaced === undefined ? whole : `${start}"${encodeAttribute(replaced)}"`;
  });
}

/** Replaces each bare http(s) URL of a text part. */
export function rewriteTextLinks(text: string, rewrite: (url: string) => string | undefined): string {
  return text.replace(TEXT_URL, (url) => {
    // A sentence's full stop or comma after a URL is not part of it.
    const trailing = /[.,;:!?]+$/.exec(url)?.[0] ?? '';
    const bare = url.slice(0, url.length - trailing.length);
    return (rewrite(bare) ?? bare) + trailing;
  });
}

/** Adds the open pixel just before `</body>` (or at the end). */
export function appendPixel(html: string, pixelUrl: string): string {
  const pixel = `<img src="${encodeAttribute(pixelUrl)}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px">`;
  const close = html.search(/<\/body\s*>/i);
  return close === -1 ? `${html}${pixel}` : `${html.slice(0, close)}${pixel}${html.slice(close)}`;
}
