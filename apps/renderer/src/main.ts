import { startTelemetry } from '@mesh/telemetry';

// Telemetry first: what it instruments (HTTP, Fastify, MongoDB) is loaded after it starts.
const telemetry = startTelemetry({
  service: 'renderer',
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
});
const { runService } = await import('@mesh/runtime');
const { rendererSpec } = await import('./renderer.app.js');
await runService(() => rendererSpec(process.env), telemetry);
