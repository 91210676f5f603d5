import { startTelemetry } from '@mesh/telemetry';

// Telemetry first: what it instruments (HTTP, Fastify, MongoDB, Redis) is loaded after it starts.
const telemetry = startTelemetry({
  service: 'recommendation',
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
});
const { runService } = await import('@mesh/runtime');
const { recommendationSpec } = await import('./recommendation.app.js');
await runService(() => recommendationSpec(process.env), telemetry);
