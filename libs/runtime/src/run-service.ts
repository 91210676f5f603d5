import { EnvValidationError } from '@mesh/config';
import { type Telemetry } from '@mesh/telemetry';
import { createServiceApp } from './create-service-app.js';
import { type ServiceSpec } from './service-spec.js';

/**
 * The body of every main.ts after telemetry: builds the config (exiting with every problem listed
 * when it is invalid), boots the app, and flushes telemetry when the process stops.
 */
export async function runService(build: () => ServiceSpec, telemetry: Telemetry): Promise<void> {
  let spec: ServiceSpec;
  try {
    spec = build();
  } catch (error) {
    if (!(error instanceof EnvValidationError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const app = await createServiceApp(spec.module, spec.app);
  const shutdownTelemetry = async () => {
    await telemetry.shutdown().catch(() => undefined);
  };
  process.once('beforeExit', () => void shutdownTelemetry());
  app.getHttpServer().once('close', () => void shutdownTelemetry());
}
