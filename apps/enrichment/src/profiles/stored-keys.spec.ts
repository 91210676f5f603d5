import fc from 'fast-check';
import { decodeKey, decodeValue, encodeKey, encodeValue } from './stored-keys.js';

describe('stored keys', () => {
  it('round-trips any key and never leaves a dot or a leading dollar', () => {
    fc.assert(
      fc.property(fc.string(), (key) => {
        const encoded = encodeKey(key);
        expect(encoded).not.toContain('.');
        expect(encoded).not.toBe('');
        expect(encoded.startsWith('$')).toBe(false);
        expect(decodeKey(encoded)).toBe(key);
      }),
    );
  });

  it('round-trips nested objects with such keys', () => {
    const value = { 'a.b': { $c: [{ 'd.e': 1 }] }, plain: 'x' };
    expect(decodeValue(encodeValue(value))).toEqual(value);
  });

  it('stores an array inside an array as JSON text', () => {
    expect(encodeValue({ matrix: [[1, 2]] })).toEqual({ matrix: ['[1,2]'] });
  });
});
