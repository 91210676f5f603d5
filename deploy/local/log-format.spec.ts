import { stripVTControlCharacters } from 'node:util';
import { formatLogLine } from './log-format.js';

const format = (line: string): string => stripVTControlCharacters(formatLogLine(line));
const at = (time: string): number => new Date(`2026-11-28T${time}`).getTime();

describe('formatLogLine', () => {
  it('shows time, level, context, message and a short trace id of a pino line', () => {
    const line = JSON.stringify({
      level: 30,
      time: at('12:03:04.123'),
      pid: 1,
      hostname: 'h',
      context: 'SendEmailUseCase',
      msg: 'email sent',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
    });

    expect(format(line)).toBe('12:03:04.123 INFO  [SendEmailUseCase] email sent trace=4bf92f35');
  });

  it('summarises an HTTP request log', () => {
    const line = JSON.stringify({
      level: 30,
      time: at('08:00:00.000'),
      msg: 'request completed',
      req: { method: 'POST', url: '/v1/track', headers: { authorization: 'Basic x' } },
      res: { statusCode: 202 },
      responseTime: 4.4,
    });

    expect(format(line)).toBe('08:00:00.000 INFO  request completed POST /v1/track 202 4ms');
  });

  it('adds the stack of a logged error on the following lines', () => {
    const stack = 'Error: connection refused\n    at connect (nats.js:1:1)';
    const line = JSON.stringify({ level: 50, time: at('08:00:00.000'), msg: 'boot failed', err: { stack } });

    expect(format(line)).toBe(`08:00:00.000 ERROR boot failed\n${stack}`);
  });

  it('passes through what is not a pino JSON line', () => {
    expect(format('node:internal/modules/run_main:123')).toBe('node:internal/modules/run_main:123');
    expect(format('{ not json')).toBe('{ not json');
  });
});
