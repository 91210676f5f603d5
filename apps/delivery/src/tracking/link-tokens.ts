import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a signed link is for: a click (to `url`), an open, or an unsubscribe. */
export type LinkToken =
  | { readonly kind: 'click'; readonly sendId: string; readonly url: string }
  | { readonly kind: 'open'; readonly sendId: string }
  | { readonly kind: 'unsubscribe'; readonly sendId: string };

const KINDS = { click: 'c', open: 'o', unsubscribe: 'u' } as const;
const SIGNATURE_BYTES = 16;

/**
 * Signs and checks the tokens in tracking and unsubscribe links: base64url(JSON) + "." +
 * base64url(HMAC-SHA256), truncated to 128 bits. A token that fails the check yields nothing, so a
 * tampered link never redirects anywhere.
 */
export class LinkTokens {
  constructor(private readonly secret: string) {}

  sign(token: LinkToken): string {
    const body = Buffer.from(
      JSON.stringify(
        token.kind === 'click'
          ? { k: KINDS.click, s: token.sendId, u: token.url }
          : { k: KINDS[token.kind], s: token.sendId },
      ),
    ).toString('base64url');
    return `${body}.${this.signature(body).toString('base64url')}`;
  }

  /** The token's content when its signature holds and it is of `kind`; otherwise undefined. */
  verify<K extends LinkToken['kind']>(text: string, kind: K): Extract<LinkToken, { kind: K }> | undefined {
    const [body, signature, ...rest] = text.split('.');
    if (!body || !signature || rest.length > 0 || text.length > 8192) return undefined;
    const given = Buffer.from(signature, 'base64url');
    const expected = this.signature(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let parsed: { k?: unknown; s?: unknown; u?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as typeof parsed;
    } catch {
      return undefined;
    }
    if (parsed.k !== KINDS[kind] || typeof parsed.s !== 'string') return undefined;
    if (kind === 'click') {
      if (typeof parsed.u !== 'string' || !isWebUrl(parsed.u)) return undefined;
      return { kind, sendId: parsed.s, url: parsed.u } as Extract<LinkToken, { kind: K }>;
    }
    return { kind, sendId: parsed.s } as Extract<LinkToken, { kind: K }>;
  }

  private signature(body: string): Buffer {
    return createHmac('sha256', this.secret).update(body).digest().subarray(0, SIGNATURE_BYTES);
  }
}

/** Only http(s) targets are ever tracked or redirected to. */
export function isWebUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
