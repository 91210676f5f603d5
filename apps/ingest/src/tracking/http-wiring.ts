import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createGunzip } from 'node:zlib';

const JSON_TYPES = new Set(['application/json', 'text/plain']);

/**
 * What the SDKs people already use send, made acceptable (EVENTS.md): gzip-encoded bodies (server
 * SDKs), JSON posted as `text/plain` to skip a CORS preflight (Segment's browser SDK), and CORS
 * headers so the browser lets the SDK read the answer. Any other media type is a 415.
 */
export function configureTrackingHttp(app: NestFastifyApplication): void {
  app.enableCors({ origin: true, methods: ['POST', 'OPTIONS'], maxAge: 86_400 });
  const fastify = app.getHttpAdapter().getInstance();
  // Nest adds a form parser of its own; the tracking API speaks JSON only (as text/plain from browsers).
  fastify.addHook('onRequest', (request, reply, done) => {
    const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (
      request.method === 'POST' &&
      request.url.startsWith('/v1/') &&
      type !== undefined &&
      !JSON_TYPES.has(type)
    ) {
      void reply.code(415).send({
        error: 'unsupported_media_type',
        message: `content-type ${type} is not accepted; send application/json (or JSON as text/plain)`,
      });
      return;
    }
    done();
  });
  fastify.addHook('preParsing', (request, reply, payload, done) => {
    const encoding = request.headers['content-encoding'];
    if (encoding === undefined || encoding === 'identity') return done(null, payload);
    if (encoding !== 'gzip') {
      void reply.code(415).send({
        error: 'unsupported_encoding',
        message: `content-encoding ${encoding} is not supported; send gzip or no encoding`,
      });
      return;
    }
    // The body limit applies to what the gunzip stream yields, so a small bomb cannot grow past it.
    delete request.headers['content-length'];
    const gunzip = createGunzip();
    payload.pipe(gunzip);
    done(null, gunzip);
  });
  fastify.removeContentTypeParser('text/plain');
  fastify.addContentTypeParser('text/plain', { parseAs: 'string' }, (request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      const error = Object.assign(new Error('the text/plain body is not JSON'), { statusCode: 400 });
      done(error, undefined);
    }
  });
}
