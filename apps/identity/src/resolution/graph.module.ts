import { type DynamicModule, Module } from '@nestjs/common';
import { IDENTIFIER_CACHE_TTL, IdentifierCache } from './identifier-cache.js';
import { IdentityGraphRepository } from './identity-graph.repository.js';

/** The identity graph (MongoDB) and its identifier cache (Redis), one instance for every module. */
@Module({})
export class GraphModule {
  static forRoot(cacheTtlSeconds: number): DynamicModule {
    return {
      module: GraphModule,
      global: true,
      providers: [
        IdentityGraphRepository,
        IdentifierCache,
        { provide: IDENTIFIER_CACHE_TTL, useValue: cacheTtlSeconds },
      ],
      exports: [IdentityGraphRepository, IdentifierCache],
    };
  }
}
