import { type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { JetStreamTransport, RethrowRpcErrorsFilter } from '@mesh/messaging';
import { Logger } from 'nestjs-pino';

export interface ServiceAppOptions {
  port: number;
  host?: string;
  /** Largest accepted request body, in bytes. */
  bodyLimit?: number;
  /** Real processes stop on SIGTERM/SIGINT; in-process test apps are closed by the test. */
  shutdownHooks?: boolean;
}

/**
 * Boots a service: Fastify HTTP (health and the service's own API) plus the JetStream transport for
 * its `@EventPattern` handlers; on close, consumers drain before connections shut.
 */
export async function createServiceApp(
  rootModule: DynamicModule,
  options: ServiceAppOptions,
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    rootModule,
    new FastifyAdapter({ bodyLimit: options.bodyLimit ?? 1024 * 1024, trustProxy: true }),
    { bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  app.flushLogs();
  if (options.shutdownHooks ?? true) app.enableShutdownHooks();
  await app.init();
  const microservice = app.connectMicroservice({ strategy: app.get(JetStreamTransport) }, { inheritAppConfig: false });
  microservice.useGlobalFilters(new RethrowRpcErrorsFilter());
  await app.startAllMicroservices();
  await app.listen({ port: options.port, host: options.host ?? '0.0.0.0' });
  return app;
}
