import { IsMongoUrl, IsRedisUrl, ServiceEnv } from '@mesh/config';
import { IsInt, IsNumber, IsOptional, Matches, Max, Min } from 'class-validator';
import { type FuzzySettings } from './duplicates/fuzzy-settings.js';
import { isSupportedCountry } from 'libphonenumber-js';
import {
  DEFAULT_EXTRACTION,
  EMAIL_RULES,
  type EmailRule,
  type ExtractionOptions,
} from './resolution/identifiers.js';
import { DEFAULT_LIMITS, type IdentityRules } from './resolution/resolve-event.usecase.js';
import { IDENTIFIER_TYPES, type IdentifierType } from '@mesh/contracts';

const TRAIT_LIST = /^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$/;
const LIMITS = new RegExp(
  `^((${IDENTIFIER_TYPES.join('|')})=[1-9][0-9]*)(,(${IDENTIFIER_TYPES.join('|')})=[1-9][0-9]*)*$`,
);
const EMAIL_RULE_LIST = new RegExp(`^(${EMAIL_RULES.join('|')})(,(${EMAIL_RULES.join('|')}))*$`);
const TRAIT_LIST_MESSAGE = (name: string) => `${name} must be trait names separated by commas`;

export class IdentityEnv extends ServiceEnv {
  override PORT: number = 3002;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/identity';

  /** The identifier lookup cache (keys prefixed `identity:`); everything in it can be rebuilt from MongoDB. */
  @IsRedisUrl() REDIS_URL: string = 'redis://127.0.0.1:6379';

  /** Seconds an identifier → profile entry stays in the cache (a miss reads MongoDB). */
  @IsInt() @Min(1) @Max(30 * 86_400) IDENTITY_CACHE_TTL_SECONDS: number = 86_400;

  /** Region assumed for phone numbers without a country code, e.g. `DE`; unset: such numbers are dropped. */
  @IsOptional()
  @Matches(/^[A-Z]{2}$/, { message: 'IDENTITY_PHONE_REGION must be an ISO 3166 alpha-2 code such as DE' })
  IDENTITY_PHONE_REGION?: string;

  /** Trait names read as custom ids (the trait name becomes the identifier's name). */
  @IsOptional()
  @Matches(TRAIT_LIST, { message: TRAIT_LIST_MESSAGE('IDENTITY_CUSTOM_ID_TRAITS') })
  IDENTITY_CUSTOM_ID_TRAITS?: string;

  /** Provider-specific e-mail rules, e.g. `gmail,plus_tags` (see `EMAIL_RULES`); unset: trim and lower-case only. */
  @IsOptional()
  @Matches(EMAIL_RULE_LIST, {
    message: `IDENTITY_EMAIL_RULES must be rule names separated by commas, out of: ${EMAIL_RULES.join(', ')}`,
  })
  IDENTITY_EMAIL_RULES?: string;

  /** Trait names read as CRM ids. */
  @Matches(TRAIT_LIST, { message: TRAIT_LIST_MESSAGE('IDENTITY_CRM_ID_TRAITS') })
  IDENTITY_CRM_ID_TRAITS: string = DEFAULT_EXTRACTION.crmTraits.join(',');

  /** Most identifiers of a type one profile may hold, e.g. `user_id=1,email=5`; types not named have no limit. */
  @Matches(LIMITS, { message: 'IDENTITY_LIMITS must look like user_id=1,email=5 (known identifier types)' })
  IDENTITY_LIMITS: string = formatLimits(DEFAULT_LIMITS);

  /** Fuzzy duplicates scoring at least this (0–1) are merged at once (reason `fuzzy`). */
  @IsNumber() @Min(0) @Max(1) IDENTITY_FUZZY_AUTO_MERGE_SCORE: number = 0.95;

  /** Fuzzy duplicates scoring at least this (0–1), and below the auto-merge score, wait for review. */
  @IsNumber() @Min(0) @Max(1) IDENTITY_FUZZY_REVIEW_SCORE: number = 0.75;

  /** Blocks (profiles sharing a blocking key) larger than this are too common to compare. */
  @IsInt() @Min(2) @Max(10_000) IDENTITY_FUZZY_MAX_BLOCK: number = 200;
}

export function fuzzySettings(env: IdentityEnv): FuzzySettings {
  return {
    autoMergeScore: env.IDENTITY_FUZZY_AUTO_MERGE_SCORE,
    reviewScore: env.IDENTITY_FUZZY_REVIEW_SCORE,
    maxBlockSize: env.IDENTITY_FUZZY_MAX_BLOCK,
  };
}

function formatLimits(limits: IdentityRules['limits']): string {
  return Object.entries(limits)
    .map(([type, limit]) => `${type}=${limit}`)
    .join(',');
}

export function identityRules(env: IdentityEnv): IdentityRules {
  const limits: IdentityRules['limits'] = {};
  for (const entry of env.IDENTITY_LIMITS.split(',')) {
    const [type, limit] = entry.split('=') as [IdentifierType, string];
    limits[type] = Number(limit);
  }
  return { limits };
}

export function extractionOptions(env: IdentityEnv): ExtractionOptions {
  const region = env.IDENTITY_PHONE_REGION;
  return {
    ...DEFAULT_EXTRACTION,
    ...(region && isSupportedCountry(region) ? { defaultRegion: region } : {}),
    crmTraits: env.IDENTITY_CRM_ID_TRAITS.split(','),
    customTraits: env.IDENTITY_CUSTOM_ID_TRAITS?.split(',') ?? [],
    emailRules: emailRules(env),
  };
}

/** The configured e-mail rules, each once (none unless `IDENTITY_EMAIL_RULES` is set). */
export function emailRules(env: IdentityEnv): EmailRule[] {
  const rules = env.IDENTITY_EMAIL_RULES?.split(',') ?? [];
  return EMAIL_RULES.filter((rule) => rules.includes(rule));
}
