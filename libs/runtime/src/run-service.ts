import { EnvValidationError } from '@mesh/config';
import { type Telemetry } from '@mesh/telemetry';
import { createServiceApp } from './create-service-app.js';
import { type ServiceSpec } from './service-spec.js';

/**
 * The body of every main.ts after telemetry: builds the config (exiting with every problem listed
 * when it is invalid) and boots the app. On SIGTERM or SIGINT it closes the app — HTTP first, then
 * the consumers drain their in-flight messages, then the connections — and flushes telemetry last.
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
  const app = await createServiceApp(spec.module, { ...spec.app, shutdownHooks: false });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    let code = 0;
    try {
      await app.close();
    } catch (error) {
      process.stderr.write(`shutdown failed: ${(error as Error).stack ?? String(error)}\n`);
      code = 1;
    }
    await telemetry.shutdown().catch(() => undefined);
    process.exit(code);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}
