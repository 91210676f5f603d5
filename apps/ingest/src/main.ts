import { startTelemetry } from '@mesh/telemetry';

// Telemetry first: what it instruments (HTTP, Fastify, MongoDB) is loaded after it starts.
const telemetry = startTelemetry({
  service: 'ingest',
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
});
const { runService } = await import('@mesh/runtime');
const { ingestSpec } = await import('./ingest.app.js');
await runService(() => ingestSpec(process.env), telemetry);
