import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { type Observable } from 'rxjs';
import { type SourceRequest } from '../sources/write-key.guard.js';
import { setRateLimitHeaders, tooManyRequests } from './rate-limit-headers.js';
import { RateLimiterService } from './rate-limiter.service.js';

/**
 * Every call an authenticated source makes (tracking, webhooks) counts against its limit; over it,
 * the call is refused with 429 before anything is published, so a 429 is never a half-accepted call.
 * Runs after the guards, which set `request.source`.
 */
@Injectable()
export class SourceRateLimitInterceptor implements NestInterceptor {
  constructor(private readonly limiter: RateLimiterService) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const source = context.switchToHttp().getRequest<SourceRequest>().source;
    if (!source) return next.handle();
    const decision = await this.limiter.consumeSource(source.id, source.rateLimitPerSecond);
    setRateLimitHeaders(context.switchToHttp().getResponse<FastifyReply>(), decision);
    if (!decision.allowed) {
      throw tooManyRequests(
        `source ${source.id} may send ${decision.limit} requests a second; retry in ${decision.resetSeconds} s`,
      );
    }
    return next.handle();
  }
}
