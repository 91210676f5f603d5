import fc from 'fast-check';
import { isTimeZone, parseQuietHours, quietHoursEnd } from './quiet-hours.js';

const NIGHT = parseQuietHours('21:00-08:00')!;

describe('quiet hours', () => {
  it('defers a send at 23:30 in Berlin to 08:00 Berlin time the next morning', () => {
    const end = quietHoursEnd(new Date('2026-06-10T21:30:00Z'), 'Europe/Berlin', NIGHT);
    expect(end?.toISOString()).toBe('2026-06-11T06:00:00.000Z');
  });

  it('lets a send through at 14:00 local time, whatever UTC says', () => {
    expect(quietHoursEnd(new Date('2026-06-10T21:00:00Z'), 'America/Los_Angeles', NIGHT)).toBeUndefined();
    expect(quietHoursEnd(new Date('2026-06-10T21:00:00Z'), 'Asia/Tokyo', NIGHT)).toEqual(
      new Date('2026-06-10T23:00:00Z'),
    );
  });

  it('ends at local 08:00 across a daylight-saving change in the night', () => {
    // Europe/Berlin moves from +01:00 to +02:00 at 02:00 on 2026-03-29.
    const end = quietHoursEnd(new Date('2026-03-28T22:00:00Z'), 'Europe/Berlin', NIGHT);
    expect(end?.toISOString()).toBe('2026-03-29T06:00:00.000Z');
  });

  it('handles a window within one day (e.g. 12:00-13:00)', () => {
    const lunch = parseQuietHours('12:00-13:00')!;
    expect(quietHoursEnd(new Date('2026-06-10T12:15:00Z'), 'UTC', lunch)).toEqual(
      new Date('2026-06-10T13:00:00Z'),
    );
    expect(quietHoursEnd(new Date('2026-06-10T13:00:00Z'), 'UTC', lunch)).toBeUndefined();
  });

  it('always names a later moment that is outside the quiet hours, within a day', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu'];
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }),
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 1439 }),
        fc.integer({ min: 0, max: 1439 }),
        (now, zone, startMinute, endMinute) => {
          const quiet = { startMinute, endMinute };
          const end = quietHoursEnd(now, zone, quiet);
          if (end === undefined) return;
          expect(end.getTime()).toBeGreaterThan(now.getTime());
          expect(end.getTime() - now.getTime()).toBeLessThanOrEqual(25 * 3_600_000);
          expect(quietHoursEnd(end, zone, quiet)).toBeUndefined();
        },
      ),
    );
  });

  it('reads HH:MM-HH:MM and refuses anything else', () => {
    expect(parseQuietHours('off')).toBeUndefined();
    expect(parseQuietHours('22:30-07:15')).toEqual({ startMinute: 1350, endMinute: 435 });
    expect(() => parseQuietHours('25:00-07:00')).toThrow(/00:00 to 23:59/);
    expect(() => parseQuietHours('10pm-7am')).toThrow(/21:00-08:00/);
  });

  it('knows IANA zones', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone(3)).toBe(false);
  });
});
