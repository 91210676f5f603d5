import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

const SERVICE_STYLES: readonly Style[] = ['cyan', 'magenta', 'yellow', 'green', 'blue', 'redBright'];

const LEVELS: Record<number, { label: string; style: Style }> = {
  10: { label: 'TRACE', style: 'gray' },
  20: { label: 'DEBUG', style: 'gray' },
  30: { label: 'INFO', style: 'green' },
  40: { label: 'WARN', style: 'yellow' },
  50: { label: 'ERROR', style: 'red' },
  60: { label: 'FATAL', style: ['bgRed', 'white'] },
};

/** The fields of a pino line we show; everything else stays in the JSON the service wrote. */
interface PinoEntry {
  level?: number;
  time?: number;
  msg?: string;
  context?: string;
  trace_id?: string;
  err?: { type?: string; message?: string; stack?: string };
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
}

/** `ingest         │ ` in the service's own colour, padded so the lines of all services align. */
export function servicePrefix(name: string, index: number, width: number): string {
  const style = SERVICE_STYLES[index % SERVICE_STYLES.length] ?? 'white';
  return `${styleText(style, name.padEnd(width))} │ `;
}

/** A pino JSON line as `12:03:04.123 INFO  [Context] message  GET /v1/track 202 4ms  trace=1a2b3c4d`. */
export function formatLogLine(line: string): string {
  const entry = parsePinoLine(line);
  if (!entry) return line;
  const level = LEVELS[entry.level ?? 30] ?? { label: String(entry.level), style: 'white' };
  const parts = [
    styleText('gray', formatTime(entry.time)),
    styleText(level.style, level.label.padEnd(5)),
    entry.context ? styleText('gray', `[${entry.context}]`) : '',
    entry.msg ?? '',
    formatRequest(entry),
    entry.trace_id ? styleText('gray', `trace=${entry.trace_id.slice(0, 8)}`) : '',
  ];
  const text = parts.filter((part) => part !== '').join(' ');
  const stack = entry.err?.stack ?? entry.err?.message;
  return stack ? `${text}\n${styleText('red', stack)}` : text;
}

function parsePinoLine(line: string): PinoEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function formatTime(time: number | undefined): string {
  const date = time === undefined ? new Date() : new Date(time);
  return `${date.toTimeString().slice(0, 8)}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

function formatRequest({ req, res, responseTime }: PinoEntry): string {
  if (!req?.method || !req.url) return '';
  const status = res?.statusCode === undefined ? '' : ` ${res.statusCode}`;
  const duration = responseTime === undefined ? '' : ` ${Math.round(responseTime)}ms`;
  return styleText('cyan', `${req.method} ${req.url}${status}${duration}`);
}
