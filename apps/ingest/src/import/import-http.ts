import { type NestFastifyApplication } from '@nestjs/platform-fastify';

/** Import uploads reach the controller as the raw stream, never buffered whole (nor held to the body limit). */
export function configureImportHttp(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addContentTypeParser(['text/csv', 'application/x-ndjson'], (_request, payload, done) => {
    done(null, payload);
  });
}
