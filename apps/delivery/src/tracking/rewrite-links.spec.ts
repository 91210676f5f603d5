import fc from 'fast-check';
import { appendPixel, rewriteHtmlLinks, rewriteTextLinks } from './rewrite-links.js';

const tracked = (url: string) => (url.startsWith('http') ? `https://t.example/c?u=${url}` : undefined);

describe('link rewriting', () => {
  it('rewrites http(s) anchors, decoding and re-encoding the attribute, and leaves mailto alone', () => {
    const html =
      '<p><a class="btn" href="https://shop.example/p?a=1&amp;b=2">Buy</a> <a href=\'mailto:help@shop.example\'>Help</a></p>';
    expect(rewriteHtmlLinks(html, tracked)).toBe(
      '<p><a class="btn" href="https://t.example/c?u=https://shop.example/p?a=1&amp;b=2">Buy</a> <a href=\'mailto:help@shop.example\'>Help</a></p>',
    );
  });

  it('rewrites URLs in text without swallowing the punctuation after them', () => {
    expect(rewriteTextLinks('See https://shop.example/cart. Or (https://shop.example/help)', tracked)).toBe(
      'See https://t.example/c?u=https://shop.example/cart. Or (https://t.example/c?u=https://shop.example/help)',
    );
  });

  it('puts the pixel before </body>', () => {
    expect(appendPixel('<html><body><p>x</p></body></html>', 'https://t.example/o.gif')).toMatch(
      /<p>x<\/p><img src="https:\/\/t\.example\/o\.gif"[^>]*><\/body><\/html>$/,
    );
  });

  it('changes nothing when no link is rewritten', () => {
    fc.assert(
      fc.property(fc.string(), (html) => {
        expect(rewriteHtmlLinks(html, () => undefined)).toBe(html);
        expect(rewriteTextLinks(html, () => undefined)).toBe(html);
      }),
    );
  });
});
