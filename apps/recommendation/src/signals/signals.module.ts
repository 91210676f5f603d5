import { Global, Module } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { RecommendationEnv } from '../config.js';
import { SignalStore } from './signal-store.js';

@Global()
@Module({
  providers: [
    {
      provide: SignalStore,
      inject: [REDIS, RecommendationEnv],
      useFactory: (redis: Redis, env: RecommendationEnv) =>
        new SignalStore(redis, env.RECOMMENDATION_DEDUP_SECONDS),
    },
  ],
  exports: [SignalStore],
})
export class SignalsModule {}
