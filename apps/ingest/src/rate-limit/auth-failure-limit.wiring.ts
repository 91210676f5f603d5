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
    // Callback hooks, answered at once on the usual path (a clean IP, any answer but 401): an async
    // hook costs every call a promise.
    fastify.addHook('onRequest', (request, reply, done) => {
      if (!guarded(request) || this.limiter.knownClean(request.ip)) return done();
      this.limiter.ipBlocked(request.ip).then((blocked) => {
        if (!blocked) return done();
        setRateLimitHeaders(reply, blocked);
        void reply
          .code(429)
          .send(
            rateLimitedBody(
              `too many refused credentials from ${request.ip}; retry in ${blocked.resetSeconds} s`,
            ),
          );
      }, done);
    });
    fastify.addHook('onResponse', (request, reply, done) => {
      if (!guarded(request) || reply.statusCode !== 401) return done();
      this.limiter.recordAuthFailure(request.ip).then(() => done(), done);
    });
  }
}
