import { startTelemetry } from '@mesh/telemetry';

// Telemetry first: what it instruments (HTTP, Fastify, MongoDB) is loaded after it starts.
const telemetry = startTelemetry({
  service: 'enrichment',
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
});
const { runService } = await import('@mesh/runtime');
const { enrichmentSpec } = await import('./enrichment.app.js');
await runService(() => enrichmentSpec(process.env), telemetry);
