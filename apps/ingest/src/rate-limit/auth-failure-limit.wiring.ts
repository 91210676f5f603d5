import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type FastifyInstance, type FastifyRequest } from 'fastify';
import { rateLimitedBody, setRateLimitHeaders } from './rate-limit-headers.js';
import { RateLimiterService } from './rate-limiter.service.js';

const guarded = (request: FastifyRequest) =>
  request.method === 'POST' && (request.url.startsWith('/v1/') || request.url.startsWith('/webhooks/'));

/**
 * Slows down guessing of write keys and webhook signatures: each 401 on a source route counts
 * against the caller's IP; past the limit, its calls get 429 before any key is looked up.
 */
@Injectable()
export class AuthFailureLimitWiring implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly limiter: RateLimiterService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', async (request, reply) => {
      if (!guarded(request)) return;
      const blocked = await this.limiter.ipBlocked(request.ip);
      if (!blocked) return;
      setRateLimitHeaders(reply, blocked);
      await reply
        .code(429)
        .send(
          rateLimitedBody(
            `too many refused credentials from ${request.ip}; retry in ${blocked.resetSeconds} s`,
          ),
        );
    });
    fastify.addHook('onResponse', async (request, reply) => {
      if (guarded(request) && reply.statusCode === 401) await this.limiter.recordAuthFailure(request.ip);
    });
  }
}
