import { signWebhook, verifyWebhook } from './webhook-signature.js';

describe('webhook signatures', () => {
  const body = Buffer.from('{"id":1}');
  const now = 1_800_000_000_000;
  const at = now / 1000;

  it('accepts the v1 HMAC of "<timestamp>.<body>", with either secret during a rotation', () => {
    expect(verifyWebhook(['s1'], String(at), signWebhook('s1', at, body), body, now)).toBeUndefined();
    expect(
      verifyWebhook(['new', 'old'], String(at), signWebhook('old', at, body), body, now),
    ).toBeUndefined();
    const both = `${signWebhook('other', at, body)}, ${signWebhook('s1', at, body)}`;
    expect(verifyWebhook(['s1'], String(at), both, body, now)).toBeUndefined();
  });

  it('refuses a wrong secret, a tampered body, a stale or missing timestamp and a malformed signature', () => {
    expect(verifyWebhook(['s1'], String(at), signWebhook('s2', at, body), body, now)).toBe('bad_signature');
    expect(verifyWebhook(['s1'], String(at), signWebhook('s1', at, body), Buffer.from('{"id":2}'), now)).toBe(
      'bad_signature',
    );
    expect(verifyWebhook(['s1'], String(at - 301), signWebhook('s1', at - 301, body), body, now)).toBe(
      'stale_timestamp',
    );
    expect(verifyWebhook(['s1'], String(at + 301), signWebhook('s1', at + 301, body), body, now)).toBe(
      'stale_timestamp',
    );
    expect(verifyWebhook(['s1'], undefined, signWebhook('s1', at, body), body, now)).toBe(
      'missing_timestamp',
    );
    expect(verifyWebhook(['s1'], String(at), 'v1=zz', body, now)).toBe('missing_signature');
    expect(verifyWebhook(['s1'], String(at), 'v1=' + 'a'.repeat(64), body, now)).toBe('bad_signature');
  });
});
