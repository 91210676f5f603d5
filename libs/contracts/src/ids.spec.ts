import { deterministicId } from './ids.js';

describe('deterministicId', () => {
  it('derives the same UUID-shaped id from the same parts, release after release', () => {
    // Pinned: a changed derivation would let every redelivered input through the stream's duplicate window.
    expect(deterministicId('ingest', 'demo', 'msg-1')).toBe('d176008d-cfd8-8e89-8fc0-86d131953c98');
    expect(deterministicId('ingest', 'démo', '🛒')).toBe('8673f0e8-5362-8ca9-bc1b-6c1313c8f865');
  });

  it('tells parts apart from their concatenation, and is a version-8 UUID', () => {
    expect(deterministicId('ab', 'c')).not.toBe(deterministicId('a', 'bc'));
    expect(deterministicId('a', 'b')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
