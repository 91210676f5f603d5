import { type LoggerService } from '@nestjs/common';
import Fastify from 'fastify';
import { logFailedTrackingCall } from './access-log.js';

describe('the tracking API access log (INGEST_ACCESS_LOG=failures)', () => {
  const lines: { level: string; line: Record<string, unknown>; context: unknown }[] = [];
  const logger: LoggerService = {
    log: (line: Record<string, unknown>, context: unknown) => lines.push({ level: 'info', line, context }),
    error: (line: Record<string, unknown>, context: unknown) => lines.push({ level: 'error', line, context }),
    warn: () => undefined,
  };
  const app = Fastify();
  app.addHook('onResponse', (request, reply, done) => {
    logFailedTrackingCall(logger, request, reply);
    done();
  });
  app.post('/v1/track', (request, reply) => {
    const status = Number((request.query as { status?: string }).status ?? 200);
    if (status === 401) return reply.code(401).send({ error: 'unauthorized' });
    (request as unknown as { source: { id: string } }).source = { id: 'shop' };
    return reply.code(status).send({ status });
  });
  app.post('/api/sources', (_request, reply) => reply.code(400).send({}));

  beforeEach(() => {
    lines.length = 0;
  });
  afterAll(() => app.close());

  it('says nothing of an accepted call', async () => {
    expect((await app.inject({ method: 'POST', url: '/v1/track' })).statusCode).toBe(200);
    expect(lines).toEqual([]);
  });

  it('logs a refused call with its path, status, time, address and source', async () => {
    await app.inject({ method: 'POST', url: '/v1/track?status=429', remoteAddress: '203.0.113.9' });
    expect(lines).toHaveLength(1);
    const { level, context, line } = lines[0]!;
    expect({ level, context }).toEqual({ level: 'info', context: 'TrackingApi' });
    expect(line).toMatchObject({
      msg: 'request refused',
      method: 'POST',
      url: '/v1/track',
      statusCode: 429,
      remoteAddress: '203.0.113.9',
      source: 'shop',
    });
    expect(typeof line.reqId).toBe('string');
    expect(typeof line.responseTime).toBe('number');
  });

  it('logs a call refused before its source is known without one, and a server error as an error', async () => {
    await app.inject({ method: 'POST', url: '/v1/track?status=401' });
    await app.inject({ method: 'POST', url: '/v1/track?status=503' });
    expect(lines.map(({ level, line }) => [level, line.msg, line.statusCode])).toEqual([
      ['info', 'request refused', 401],
      ['error', 'request failed', 503],
    ]);
    expect(lines[0]!.line).not.toHaveProperty('source');
  });

  it('leaves the other routes to the request logger', async () => {
    await app.inject({ method: 'POST', url: '/api/sources' });
    expect(lines).toEqual([]);
  });
});
