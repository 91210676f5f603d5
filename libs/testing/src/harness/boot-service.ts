import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServiceApp, type ServiceSpec } from '@mesh/runtime';

export interface BootedService {
  app: NestFastifyApplication;
  /** Base URL of its HTTP server, on a free port. */
  url: string;
  close(): Promise<void>;
}

/** Boots a service module in this process, exactly as main.ts does, on a free port. */
export async function bootService(spec: ServiceSpec | ServiceSpec['module']): Promise<BootedService> {
  const { module, app: options }: ServiceSpec = 'app' in spec ? spec : { module: spec, app: { port: 0 } };
  const app = await createServiceApp(module, {
    ...options,
    port: 0,
    host: '127.0.0.1',
    shutdownHooks: false,
  });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
