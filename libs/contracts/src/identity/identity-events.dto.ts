import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  AliasPayload,
  ConsentPayload,
  GroupPayload,
  IdentifyPayload,
  PagePayload,
  ProfilePayload,
  ScreenPayload,
  TrackPayload,
} from '../ingest/ingested-event.dto.js';

export const IDENTIFIER_TYPES = [
  'user_id',
  'anonymous_id',
  'email',
  'phone',
  'crm_id',
  'device_id',
  'custom',
] as const;
export type IdentifierType = (typeof IDENTIFIER_TYPES)[number];

export class IdentifierDto {
  @IsIn(IDENTIFIER_TYPES) type!: IdentifierType;
  @IsString() @Length(1, 512) value!: string;
  /** For `custom` identifiers: the id's own name (e.g. `shopify_customer_id`). */
  @IsOptional() @IsString() @Length(1, 128) name?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the mixin constructor signature TypeScript requires
type PayloadClass = abstract new (...args: any[]) => object;

/** A resolved event is its ingested payload plus the identifiers it was resolved on (the profile id is in the envelope). */
function Resolved<T extends PayloadClass>(Ingested: T) {
  abstract class ResolvedEvent extends Ingested {
    @IsArray()
    @ArrayMaxSize(64)
    @ValidateNested({ each: true })
    @Type(() => IdentifierDto)
    identifiers!: IdentifierDto[];
  }
  return ResolvedEvent;
}

export class ResolvedTrackPayload extends Resolved(TrackPayload) {}
export class ResolvedIdentifyPayload extends Resolved(IdentifyPayload) {}
export class ResolvedPagePayload extends Resolved(PagePayload) {}
export class ResolvedScreenPayload extends Resolved(ScreenPayload) {}
export class ResolvedGroupPayload extends Resolved(GroupPayload) {}
export class ResolvedAliasPayload extends Resolved(AliasPayload) {}
export class ResolvedProfilePayload extends Resolved(ProfilePayload) {}
export class ResolvedConsentPayload extends Resolved(ConsentPayload) {}

export class ProfilesMergedPayload {
  @IsString() @Length(1, 128) mergeId!: string;
  @IsString() @Length(1, 128) survivorId!: string;
  @IsArray() @ArrayMinSize(1) @IsString({ each: true }) mergedIds!: string[];
  @IsString() @Length(1, 256) reason!: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => IdentifierDto) evidence!: IdentifierDto[];
  /** Set when the merge came from a fuzzy duplicate (`reason: 'fuzzy'`): its candidate id. */
  @IsOptional() @IsString() @Length(1, 128) candidateId?: string;
}

export class ProfileSplitPayload {
  @IsString() @Length(1, 128) mergeId!: string;
  @IsString() @Length(1, 128) survivorId!: string;
  @IsArray() @ArrayMinSize(1) @IsString({ each: true }) restoredIds!: string[];
}

export class DuplicateCandidatePayload {
  @IsString() @Length(1, 128) candidateId!: string;
  @IsArray() @ArrayMinSize(2) @ArrayMaxSize(2) @IsString({ each: true }) profileIds!: string[];
  @IsNumber() @Min(0) @Max(1) score!: number;
  @IsObject() evidence!: Record<string, unknown>;
  /** What identity does with it: merge at once (score over the auto-merge threshold) or wait for review. */
  @IsOptional() @IsIn(['auto_merge', 'review']) decision?: 'auto_merge' | 'review';
}
