import { type DynamicModule, ValidationPipe, type ValidationError } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { JetStreamTransport } from '@mesh/messaging';
import { Logger } from 'nestjs-pino';
import { invalidRequest } from './validated-body.js';

export interface ServiceAppOptions {
  port: number;
  host?: string;
  /** Largest accepted request body, in bytes. */
  bodyLimit?: number;
  /** Real processes stop on SIGTERM/SIGINT; in-process test apps are closed by the test. */
  shutdownHooks?: boolean;
  /** Service-specific HTTP wiring (body parsers, CORS, hooks), applied before the app initializes. */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
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
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => invalidRequest(fieldErrors(errors)),
    }),
  );
  app.flushLogs();
  await options.configure?.(app);
  if (options.shutdownHooks ?? true) app.enableShutdownHooks();
  await app.init();
  app.connectMicroservice({ strategy: app.get(JetStreamTransport) }, { inheritAppConfig: false });
  await app.startAllMicroservices();
  await app.listen({ port: options.port, host: options.host ?? '0.0.0.0' });
  return app;
}

/** `{ "properties.price": ["must be a number"] }`: each field at fault, by its path. */
export function fieldErrors(errors: readonly ValidationError[], prefix = ''): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const error of errors) {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints) fields[path] = Object.values(error.constraints);
    Object.assign(fields, fieldErrors(error.children ?? [], path));
  }
  return fields;
}
