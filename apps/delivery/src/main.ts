import { startTelemetry } from '@mesh/telemetry';

// Telemetry first: what it instruments (HTTP, Fastify, MongoDB) is loaded after it starts.
const telemetry = startTelemetry({
  service: 'delivery',
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
});
const { runService } = await import('@mesh/runtime');
const { deliverySpec } = await import('./delivery.app.js');
await runService(() => deliverySpec(process.env), telemetry);
