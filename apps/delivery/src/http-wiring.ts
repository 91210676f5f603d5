import { Readable } from 'node:stream';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * Webhook signatures are computed over the exact bytes sent: for `/webhooks/` requests the body is
 * read once here, kept on the request as `rawBody`, and handed on unchanged to the JSON parser.
 * (Fastify's body limit still applies: the parser sees the same bytes.)
 */
export function configureDeliveryHttp(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('preParsing', async (request, _reply, payload) => {
    if (!request.url.startsWith('/webhooks/')) return payload;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of payload) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      size += buffer.length;
      if (size > 1024 * 1024)
        throw Object.assign(new Error('the webhook body is too large'), { statusCode: 413 });
      chunks.push(buffer);
    }
    const raw = Buffer.concat(chunks);
    (request as { rawBody?: string }).rawBody = raw.toString('utf8');
    return Readable.from([raw]);
  });
}
