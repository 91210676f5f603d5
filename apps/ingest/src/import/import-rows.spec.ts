import fc from 'fast-check';
import { type ImportMapping, mapRow } from './import-rows.js';

const identify: ImportMapping = {
  type: 'identify',
  userIdColumn: 'userId',
  anonymousIdColumn: 'anonymousId',
  timestampColumn: 'timestamp',
};
const track: ImportMapping = { ...identify, type: 'track', eventColumn: 'event' };

const cell = fc.oneof(
  fc.constant(''),
  fc.constant('\uFE0F'),
  fc.string({ maxLength: 3 }),
  fc.string({ minLength: 250, maxLength: 260 }),
  fc.constantFrom(
    '2026-11-28T10:00:00.000Z',
    '2026-02-30T10:00:00Z',
    '2026-11-28 10:00:00',
    '2026-W48-1',
    '2026-11-28T10:00:00+01:00',
  ),
  fc.integer(),
  fc.constant(null),
  fc.constant(undefined),
);
const row = fc.record(
  { userId: cell, anonymousId: cell, timestamp: cell, event: cell, plan: cell },
  { requiredKeys: [] },
);

describe('import rows: the quick check agrees with class-validator', () => {
  it.each([
    ['identify', identify],
    ['track', track],
    ['track with a fixed name', { ...track, eventName: 'Order Completed' }],
  ])('for %s rows', (_name, mapping) => {
    const seen = { valid: 0, invalid: 0 };
    fc.assert(
      fc.property(row, fc.string({ minLength: 1, maxLength: 300 }), (value, messageId) => {
        const quick = mapRow(value, mapping, messageId);
        const checked = mapRow(value, mapping, messageId, false);
        expect('call' in quick).toBe('call' in checked);
        seen['call' in checked ? 'valid' : 'invalid']++;
        if ('call' in quick && 'call' in checked) {
          expect(quick.call.type).toBe(checked.call.type);
          expect({ ...quick.call.event }).toEqual({ ...checked.call.event });
          expect(quick.call.event.constructor).toBe(checked.call.event.constructor);
        } else expect(quick).toEqual(checked);
      }),
      { numRuns: 600 },
    );
    expect(seen.valid).toBeGreaterThan(20);
    expect(seen.invalid).toBeGreaterThan(20);
  });
});
