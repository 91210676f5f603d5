import { IsMongoUrl, ServiceEnv } from '@mesh/config';
import { IsOptional, Matches } from 'class-validator';
import { isSupportedCountry } from 'libphonenumber-js';
import { DEFAULT_EXTRACTION, type ExtractionOptions } from './resolution/identifiers.js';

const TRAIT_LIST = /^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$/;
const TRAIT_LIST_MESSAGE = (name: string) => `${name} must be trait names separated by commas`;

export class IdentityEnv extends ServiceEnv {
  override PORT: number = 3002;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/identity';

  /** Region assumed for phone numbers without a country code, e.g. `DE`; unset: such numbers are dropped. */
  @IsOptional()
  @Matches(/^[A-Z]{2}$/, { message: 'IDENTITY_PHONE_REGION must be an ISO 3166 alpha-2 code such as DE' })
  IDENTITY_PHONE_REGION?: string;

  /** Trait names read as custom ids (the trait name becomes the identifier's name). */
  @IsOptional()
  @Matches(TRAIT_LIST, { message: TRAIT_LIST_MESSAGE('IDENTITY_CUSTOM_ID_TRAITS') })
  IDENTITY_CUSTOM_ID_TRAITS?: string;

  /** Trait names read as CRM ids. */
  @Matches(TRAIT_LIST, { message: TRAIT_LIST_MESSAGE('IDENTITY_CRM_ID_TRAITS') })
  IDENTITY_CRM_ID_TRAITS: string = DEFAULT_EXTRACTION.crmTraits.join(',');
}

export function extractionOptions(env: IdentityEnv): ExtractionOptions {
  const region = env.IDENTITY_PHONE_REGION;
  return {
    ...DEFAULT_EXTRACTION,
    ...(region && isSupportedCountry(region) ? { defaultRegion: region } : {}),
    crmTraits: env.IDENTITY_CRM_ID_TRAITS.split(','),
    customTraits: env.IDENTITY_CUSTOM_ID_TRAITS?.split(',') ?? [],
  };
}
