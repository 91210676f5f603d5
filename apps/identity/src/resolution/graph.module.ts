import { type DynamicModule, Module } from '@nestjs/common';
import { IDENTIFIER_CACHE_TTL, IdentifierCache } from './identifier-cache.js';
import { type EmailRule } from './identifiers.js';
import { IdentityGraphRepository } from './identity-graph.repository.js';
import { CLAIM_TTL_MS, DEFAULT_CLAIM_TTL_MS, ProfileClaims } from './profile-claims.js';

/** The configured provider e-mail rules (`EmailRule[]`), for every place that normalizes an address. */
export const EMAIL_RULES_TOKEN = Symbol('EMAIL_RULES');

/**
 * The identity graph (MongoDB), its identifier cache and claims (Redis) and the e-mail rules its keys
 * are normalized with, one instance for every module.
 */
@Module({})
export class GraphModule {
  static forRoot(cacheTtlSeconds: number, emailRules: readonly EmailRule[] = []): DynamicModule {
    return {
      module: GraphModule,
      global: true,
      providers: [
        IdentityGraphRepository,
        IdentifierCache,
        ProfileClaims,
        { provide: IDENTIFIER_CACHE_TTL, useValue: cacheTtlSeconds },
        { provide: CLAIM_TTL_MS, useValue: DEFAULT_CLAIM_TTL_MS },
        { provide: EMAIL_RULES_TOKEN, useValue: emailRules },
      ],
      exports: [IdentityGraphRepository, IdentifierCache, EMAIL_RULES_TOKEN],
    };
  }
}
