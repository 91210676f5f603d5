import { Global, Module } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { SignalStore } from './signal-store.js';

@Global()
@Module({
  providers: [
    { provide: SignalStore, inject: [REDIS], useFactory: (redis: Redis) => new SignalStore(redis) },
  ],
  exports: [SignalStore],
})
export class SignalsModule {}
