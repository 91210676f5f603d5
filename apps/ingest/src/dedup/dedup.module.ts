import { type DynamicModule, Module } from '@nestjs/common';
import { IngestEnv } from '../config.js';
import { ErasedIdentities } from '../privacy/erased-identities.js';
import { StoreOnceService } from './store-once.service.js';
import { DEDUP_WINDOW_SECONDS, SeenMessagesRepository } from './seen-messages.repository.js';

@Module({})
export class DedupModule {
  static forRoot(env: IngestEnv): DynamicModule {
    return {
      module: DedupModule,
      global: true,
      providers: [
        { provide: IngestEnv, useValue: env },
        SeenMessagesRepository,
        StoreOnceService,
        ErasedIdentities,
        { provide: DEDUP_WINDOW_SECONDS, useValue: env.INGEST_DEDUP_HOURS * 3600 },
      ],
      exports: [SeenMessagesRepository, StoreOnceService, ErasedIdentities],
    };
  }
}
