import { RequestMethod } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { loggerParams } from './logger.js';
import { startTestTelemetry, type TestTelemetry } from './test-telemetry.js';

describe('log lines', () => {
  let telemetry: TestTelemetry;
  beforeAll(() => {
    telemetry = startTestTelemetry('logger-test');
  });
  afterAll(() => telemetry.shutdown());

  it('carry the service, and the trace and span ids of the work they describe', () => {
    const params = loggerParams({ service: 'delivery', level: 'info' });
    const pinoHttp = params.pinoHttp as { base: object; mixin: () => object };
    expect(pinoHttp.base).toEqual({ service: 'delivery' });
    expect(pinoHttp.mixin()).toEqual({});
    trace.getTracer('test').startActiveSpan('send', (span) => {
      const { traceId, spanId } = span.spanContext();
      expect(pinoHttp.mixin()).toEqual({ trace_id: traceId, span_id: spanId });
      span.end();
    });
  });

  it('leave the routes a service names without a request logger', () => {
    expect(loggerParams({ service: 'ingest', level: 'info' }).exclude).toBeUndefined();
    expect(loggerParams({ service: 'ingest', level: 'info', quietRoutes: ['v1/{*splat}'] }).exclude).toEqual([
      { path: 'v1/{*splat}', method: RequestMethod.ALL },
    ]);
  });
});
