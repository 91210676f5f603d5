import { HttpException, HttpStatus } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { type RateDecision } from './rate-limiter.service.js';

/** `RateLimit-Limit/Remaining/Reset` (IETF httpapi draft) on every answer, `Retry-After` on a 429. */
export function setRateLimitHeaders(reply: FastifyReply, decision: RateDecision): void {
  void reply.header('RateLimit-Limit', String(decision.limit));
  void reply.header('RateLimit-Remaining', String(decision.remaining));
  void reply.header('RateLimit-Reset', String(decision.resetSeconds));
  if (!decision.allowed) void reply.header('Retry-After', String(decision.resetSeconds));
}

export const rateLimitedBody = (message: string) => ({ error: 'rate_limited', message });

export const tooManyRequests = (message: string) =>
  new HttpException(rateLimitedBody(message), HttpStatus.TOO_MANY_REQUESTS);
