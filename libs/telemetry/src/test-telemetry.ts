import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

export interface TestTelemetry {
  /** Every span ended so far. */
  spans(): ReadableSpan[];
  /** Current value of a counter or the count of a histogram, summed over all attribute sets that match. */
  metric(name: string, attributes?: Record<string, string>): Promise<number>;
  reset(): void;
  shutdown(): Promise<void>;
}

/** Registers in-memory tracing and metrics as the global providers, for tests to read back. */
export function startTestTelemetry(service = 'test'): TestTelemetry {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: spanExporter })],
  });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const metricReader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [metricReader] });

  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);

  return {
    spans: () => spanExporter.getFinishedSpans(),
    async metric(name, attributes = {}) {
      const collected = await metricReader.collect();
      let total = 0;
      for (const scope of collected.resourceMetrics.scopeMetrics) {
        for (const series of scope.metrics) {
          if (series.descriptor.name !== name) continue;
          for (const point of series.dataPoints) {
            const matches = Object.entries(attributes).every(
              ([key, value]) => point.attributes[key] === value,
            );
            if (!matches) continue;
            const value = point.value as number | { count: number };
            total += typeof value === 'number' ? value : value.count;
          }
        }
      }
      return total;
    },
    reset: () => spanExporter.reset(),
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
    },
  };
}
