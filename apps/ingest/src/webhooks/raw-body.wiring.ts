import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type FastifyInstance, type FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';

/** The tracking API's batch limit applies to webhooks too. */
const MAX_WEBHOOK_BYTES = 500 * 1024;

export type RawBodyRequest = FastifyRequest & { rawBody?: Buffer };

/** The bytes of a webhook's body (after any gzip), at most MAX_WEBHOOK_BYTES (413 beyond). */
async function readRawBody(payload: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of payload) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_WEBHOOK_BYTES) {
      throw Object.assign(new Error(`a webhook may be at most ${MAX_WEBHOOK_BYTES} bytes`), {
        statusCode: 413,
      });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Webhook signatures cover the exact bytes sent: keep them (after any gzip) before JSON parsing. */
@Injectable()
export class RawBodyWiring implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // A callback hook: the other routes pass straight through, without a promise each.
    fastify.addHook('preParsing', (request: RawBodyRequest, _reply, payload, done) => {
      if (!request.url.startsWith('/webhooks/')) return done(null, payload);
      readRawBody(payload).then((rawBody) => {
        request.rawBody = rawBody;
        done(null, Readable.from([rawBody]));
      }, done);
    });
  }
}
