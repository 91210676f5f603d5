/** Local quiet hours as minutes after midnight; `start > end` spans midnight (e.g. 21:00–08:00). */
export interface QuietHours {
  startMinute: number;
  endMinute: number;
}

const MINUTE = 60_000;

/** Parses `HH:MM-HH:MM`; `off` (or nothing) means no quiet hours. */
export function parseQuietHours(text: string): QuietHours | undefined {
  if (text.trim() === '' || text.trim() === 'off') return undefined;
  const match = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(text.trim());
  if (!match) throw new Error(`quiet hours must look like 21:00-08:00, got "${text}"`);
  const [hStart, mStart, hEnd, mEnd] = match.slice(1).map(Number) as [number, number, number, number];
  if (hStart > 23 || hEnd > 23 || mStart > 59 || mEnd > 59)
    throw new Error(`quiet hours must use times from 00:00 to 23:59, got "${text}"`);
  return { startMinute: hStart * 60 + mStart, endMinute: hEnd * 60 + mEnd };
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: unknown): timeZone is string {
  if (typeof timeZone !== 'string' || timeZone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function localMinute(at: Date, timeZone: string): number {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, format);
  }
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(at)) {
    if (part.type === 'hour') hour = Number(part.value);
    if (part.type === 'minute') minute = Number(part.value);
  }
  return hour * 60 + minute;
}

function isQuiet(minute: number, { startMinute, endMinute }: QuietHours): boolean {
  if (startMinute === endMinute) return false;
  return startMinute < endMinute
    ? minute >= startMinute && minute < endMinute
    : minute >= startMinute || minute < endMinute;
}

/**
 * When `now` falls in the recipient's quiet hours, the first minute after them (in that time zone,
 * daylight-saving changes included); otherwise undefined.
 */
export function quietHoursEnd(now: Date, timeZone: string, quiet: QuietHours): Date | undefined {
  const minute = localMinute(now, timeZone);
  if (!isQuiet(minute, quiet)) return undefined;
  const startOfMinute = Math.floor(now.getTime() / MINUTE) * MINUTE;
  let candidate = new Date(startOfMinute + ((quiet.endMinute - minute + 1440) % 1440) * MINUTE);
  // A daylight-saving change inside the night moves the local end by up to an hour: step to it.
  for (let step = 0; step < 16 && isQuiet(localMinute(candidate, timeZone), quiet); step++) {
    candidate = new Date(candidate.getTime() + 15 * MINUTE);
  }
  while (candidate.getTime() - 15 * MINUTE > now.getTime()) {
    const earlier = new Date(candidate.getTime() - 15 * MINUTE);
    if (isQuiet(localMinute(earlier, timeZone), quiet)) break;
    candidate = earlier;
  }
  return candidate;
}
