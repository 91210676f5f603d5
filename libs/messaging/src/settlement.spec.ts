import fc from 'fast-check';
import { PermanentError } from './errors.js';
import { decideSettlement, retryDelay, type RetryPolicy } from './settlement.js';

const policy: RetryPolicy = { maxDeliver: 5, baseDelayMs: 1000, maxDelayMs: 30_000 };

describe('decideSettlement', () => {
  it('acks a handler that succeeded', () => {
    expect(decideSettlement({ ok: true }, 1, policy)).toEqual({ kind: 'ack' });
  });

  it('naks a transient failure before the last delivery', () => {
    const settlement = decideSettlement({ ok: false, error: new Error('mongo down') }, 2, policy);
    expect(settlement.kind).toBe('nak');
  });

  it('dead-letters a transient failure on the last allowed delivery', () => {
    expect(decideSettlement({ ok: false, error: new Error('still down') }, 5, policy)).toEqual({
      kind: 'dead-letter',
      permanent: false,
    });
  });

  it('dead-letters a permanent error on its first delivery', () => {
    expect(decideSettlement({ ok: false, error: new PermanentError('bad input') }, 1, policy)).toEqual({
      kind: 'dead-letter',
      permanent: true,
    });
    const marked = Object.assign(new Error('domain rule'), { permanent: true });
    expect(decideSettlement({ ok: false, error: marked }, 1, policy).kind).toBe('dead-letter');
  });
});

describe('retryDelay', () => {
  it('grows with each delivery and never exceeds the cap (plus jitter)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (count, r) => {
          const delay = retryDelay(count, policy, () => r);
          expect(delay).toBeGreaterThanOrEqual(800);
          expect(delay).toBeLessThanOrEqual(policy.maxDelayMs * 1.2);
          expect(retryDelay(count + 1, policy, () => r)).toBeGreaterThanOrEqual(delay);
        },
      ),
    );
  });
});
