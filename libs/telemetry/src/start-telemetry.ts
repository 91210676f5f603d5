import { register } from 'node:module';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

export interface TelemetryOptions {
  service: string;
  version?: string;
  /** OTLP/HTTP base URL (e.g. http://otel-collector:4318); without it nothing is exported. */
  otlpEndpoint?: string | undefined;
}

export interface Telemetry {
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK. Call it first in main.ts, before Nest or any instrumented
 * library is imported (load those with a dynamic import afterwards), so their modules are patched.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  // ESM modules (ioredis, pino…) are patched through this loader hook; CommonJS ones without it.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

  const endpoint = options.otlpEndpoint?.replace(/\/+$/, '');
  // Spans are made either way (trace ids in logs and in message headers); exported only to an endpoint.
  // Everything is configured explicitly: left empty, the SDK would export to localhost:4318 by default.
  const spanProcessors: SpanProcessor[] = endpoint
    ? [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }) })]
    : [new NoopSpanProcessor()];
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.service,
      [ATTR_SERVICE_VERSION]: options.version ?? '0.1.0',
    }),
    spanProcessors,
    metricReaders: endpoint
      ? [
          new PeriodicExportingMetricReader({
            exporter: new OTLPMetricExporter({ url: `${endpoint}/v1/metrics` }),
            exportIntervalMillis: 15_000,
          }),
        ]
      : [],
    // Logs are JSON lines on stdout (pino), collected by the platform.
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => request.url?.startsWith('/health/') ?? false,
      }),
      new FastifyOtelInstrumentation({ registerOnInitialization: true }),
      new MongoDBInstrumentation({ enhancedDatabaseReporting: false }),
      new IORedisInstrumentation(),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
