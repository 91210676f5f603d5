import { startTelemetry } from '@mesh/telemetry';

// Telemetry first: what it instruments (HTTP, Fastify, MongoDB) is loaded after it starts.
const telemetry = startTelemetry({
  service: 'identity',
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
});
const { runService } = await import('@mesh/runtime');
const { identitySpec } = await import('./identity.app.js');
await runService(() => identitySpec(process.env), telemetry);
