import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuthFailureLimitWiring } from './auth-failure-limit.wiring.js';
import { RateLimiterService } from './rate-limiter.service.js';
import { SourceRateLimitInterceptor } from './source-rate-limit.interceptor.js';

@Module({
  providers: [
    RateLimiterService,
    AuthFailureLimitWiring,
    { provide: APP_INTERCEPTOR, useClass: SourceRateLimitInterceptor },
  ],
})
export class RateLimitModule {}
