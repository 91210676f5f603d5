import fc from 'fast-check';
import { LinkTokens } from './link-tokens.js';

const tokens = new LinkTokens('a-secret-of-at-least-32-characters!!');

describe('LinkTokens', () => {
  it('round-trips each kind', () => {
    const click = tokens.sign({ kind: 'click', sendId: 's-1', url: 'https://shop.example/p/1?utm=x' });
    expect(tokens.verify(click, 'click')).toEqual({
      kind: 'click',
      sendId: 's-1',
      url: 'https://shop.example/p/1?utm=x',
    });
    expect(tokens.verify(tokens.sign({ kind: 'open', sendId: 's-1' }), 'open')).toEqual({
      kind: 'open',
      sendId: 's-1',
    });
    expect(tokens.verify(tokens.sign({ kind: 'unsubscribe', sendId: 's-1' }), 'unsubscribe')).toEqual({
      kind: 'unsubscribe',
      sendId: 's-1',
    });
  });

  it('refuses a token used for another purpose or signed with another secret', () => {
    const open = tokens.sign({ kind: 'open', sendId: 's-1' });
    expect(tokens.verify(open, 'unsubscribe')).toBeUndefined();
    const foreign = new LinkTokens('another-secret-of-at-least-32-chars!!');
    expect(tokens.verify(foreign.sign({ kind: 'open', sendId: 's-1' }), 'open')).toBeUndefined();
  });

  it('refuses a click token whose URL is not http(s), even when signed', () => {
    const script = tokens.sign({ kind: 'click', sendId: 's-1', url: 'javascript:alert(1)' });
    expect(tokens.verify(script, 'click')).toBeUndefined();
  });

  it('never accepts any change to a token', () => {
    const original = tokens.sign({ kind: 'click', sendId: 'send-42', url: 'https://shop.example/cart' });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: original.length - 1 }),
        fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'.split('')),
        (index, character) => {
          const tampered = original.slice(0, index) + character + original.slice(index + 1);
          fc.pre(tampered !== original);
          const result = tokens.verify(tampered, 'click');
          // base64url's last character may carry unused bits: a change there can decode to the same bytes.
          if (result) expect(result.url).toBe('https://shop.example/cart');
        },
      ),
    );
  });
});
