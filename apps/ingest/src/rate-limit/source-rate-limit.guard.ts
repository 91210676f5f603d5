import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { type SourceRequest } from '../sources/write-key.guard.js';
import { setRateLimitHeaders, tooManyRequests } from './rate-limit-headers.js';
import { RateLimiterService } from './rate-limiter.service.js';

/**
 * Every call an authenticated source makes (tracking, customers, imports, webhooks) counts against its
 * limit; over it, the call is refused with 429 before anything is published, so a 429 is never a
 * half-accepted call. Listed after the guard that authenticates the source (which sets `request.source`):
 * `@UseGuards(WriteKeyGuard, SourceRateLimitGuard)`. A guard rather than an interceptor: no rxjs chain
 * on the busiest route.
 */
@Injectable()
export class SourceRateLimitGuard implements CanActivate {
  constructor(private readonly limiter: RateLimiterService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const source = http.getRequest<SourceRequest>().source;
    if (!source) return true;
    const decision = await this.limiter.consumeSource(source.id, source.rateLimitPerSecond);
    setRateLimitHeaders(http.getResponse<FastifyReply>(), decision);
    if (!decision.allowed) {
      throw tooManyRequests(
        `source ${source.id} may send ${decision.limit} requests a second; retry in ${decision.resetSeconds} s`,
      );
    }
    return true;
  }
}
