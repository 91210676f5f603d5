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
});
