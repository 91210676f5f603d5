import { Global, Module } from '@nestjs/common';
import { AuthFailureLimitWiring } from './auth-failure-limit.wiring.js';
import { RateLimiterService } from './rate-limiter.service.js';
import { SourceRateLimitGuard } from './source-rate-limit.guard.js';

/** Global: every controller that authenticates a source lists SourceRateLimitGuard after that guard. */
@Global()
@Module({
  providers: [RateLimiterService, AuthFailureLimitWiring, SourceRateLimitGuard],
  exports: [RateLimiterService, SourceRateLimitGuard],
})
export class RateLimitModule {}
