import { isISO8601 } from 'class-validator';
import fc from 'fast-check';
import { isRfc3339Instant, isTimestampValue } from './segment-event.dto.js';

const generalCheck = (value: string) =>
  isISO8601(value, { strict: true, strictSeparator: true }) && !Number.isNaN(Date.parse(value));

const padded = (min: number, max: number, width = 2) =>
  fc.integer({ min, max }).map((n) => String(n).padStart(width, '0'));
/** Strings shaped like RFC 3339 timestamps, many of them impossible (month 13, 31 April, 29 February 2100…). */
const timestampLike = fc
  .tuple(
    fc.oneof(padded(0, 9999, 4), fc.constantFrom('1900', '2000', '2024', '2100')),
    padded(0, 13),
    padded(0, 32),
    fc.constantFrom('T', 'T', 't', ' '),
    padded(0, 25),
    padded(0, 61),
    padded(0, 61),
    fc.constantFrom('', '.1', '.123', '.123456789', '.1234567890'),
    fc.constantFrom('Z', 'z', '+00:00', '-05:30', '+24:00', '+01:60', ''),
  )
  .map(
    ([year, month, day, separator, hour, minute, second, fraction, zone]) =>
      `${year}-${month}-${day}${separator}${hour}:${minute}:${second}${fraction}${zone}`,
  );

describe('timestamps', () => {
  it('takes as RFC 3339 nothing the general ISO-8601 check refuses', () => {
    let taken = 0;
    fc.assert(
      fc.property(fc.oneof(timestampLike, fc.string()), (value) => {
        if (isRfc3339Instant(value)) {
          taken++;
          expect(generalCheck(value)).toBe(true);
        }
      }),
      { numRuns: 20_000 },
    );
    expect(taken).toBeGreaterThan(500); // the generator reaches valid timestamps often enough to mean something
  });

  it('recognises every instant as toISOString() writes it, and agrees with the general check on the rest', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1000-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
        (date) => {
          expect(isRfc3339Instant(date.toISOString())).toBe(true);
        },
      ),
    );
    fc.assert(
      fc.property(timestampLike, (value) => {
        expect(isTimestampValue(value)).toBe(generalCheck(value));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each(['2024-02-29T10:00:00Z', '2026-11-28T10:00:00.000+01:00', '2000-02-29T23:59:59.999999Z'])(
    'takes %s',
    (value) => expect(isRfc3339Instant(value)).toBe(true),
  );

  it.each([
    '2026-02-29T10:00:00Z',
    '2100-02-29T10:00:00Z',
    '2026-04-31T10:00:00Z',
    '2026-11-28T24:00:00Z',
    '2026-W48-1',
  ])('refuses %s', (value) => expect(isTimestampValue(value)).toBe(false));
});
