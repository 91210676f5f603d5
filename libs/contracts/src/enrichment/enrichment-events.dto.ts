import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { ProfileSnapshotDto } from '../common/profile.dto.js';

export class ProfileUpdatedPayload {
  @ValidateNested() @Type(() => ProfileSnapshotDto) profile!: ProfileSnapshotDto;
  /** Names of the traits and computed attributes that changed. */
  @IsString({ each: true }) changed!: string[];
}

export class SegmentChangedPayload {
  @IsString() @Length(1, 128) segmentId!: string;
  @IsBoolean() member!: boolean;
}

/**
 * How a campaign's products are chosen (issue 8): `bought_together` for the trigger's cart or product,
 * `personal` from the profile's recent history, `trending` in a category, `popular` the cold-start fallback.
 */
export const RECOMMENDATION_STRATEGIES = [
  'none',
  'popular',
  'trending',
  'bought_together',
  'personal',
] as const;
export type RecommendationStrategy = (typeof RECOMMENDATION_STRATEGIES)[number];

export class RecommendationSpecDto {
  @IsIn(RECOMMENDATION_STRATEGIES) strategy!: RecommendationStrategy;
  @IsInt() @Min(0) @Max(50) limit!: number;
  /** For `trending` (and as a filter for the others): only this category. */
  @IsOptional() @IsString() @Length(1, 256) category?: string;
}

export class SendPolicyDto {
  /** At most this many emails of any campaign to one profile per rolling day (0: no cap). */
  @IsInt() @Min(0) @Max(1000) maxPerDay!: number;
  /** Transactional mail ignores marketing consent and caps. */
  @IsBoolean() transactional!: boolean;
}

/** What a campaign asks of the later stages, carried with each send intent so none looks back upstream. */
export class CampaignSpecDto {
  @IsString() @Length(1, 128) campaignId!: string;
  @IsString() @Length(1, 256) name!: string;
  @IsString() @Length(1, 128) templateId!: string;
  /** A pinned template version; without it the renderer takes the published one. */
  @IsOptional() @IsInt() @Min(1) templateVersion?: number;
  /** The A/B variant this intent was assigned (the variant may override the template). */
  @IsOptional() @IsString() @Length(1, 64) variant?: string;
  /** Higher wins when frequency caps collide (delivery). */
  @IsOptional() @IsInt() @Min(0) @Max(100) priority?: number;
  /** Per-campaign sender; delivery's configured default otherwise. */
  @IsOptional() @IsString() @Length(1, 320) from?: string;
  @IsOptional() @IsString() @Length(1, 320) replyTo?: string;
  @ValidateNested() @Type(() => RecommendationSpecDto) recommendation!: RecommendationSpecDto;
  @ValidateNested() @Type(() => SendPolicyDto) sendPolicy!: SendPolicyDto;
}

export class TriggerDto {
  /** The event that fired the campaign, e.g. `Product Added`. */
  @IsString() @Length(1, 256) event!: string;
  @IsObject() properties!: Record<string, unknown>;
}

/** `enrichment.triggered`: a decision to send one campaign to one profile. */
export class SendIntentPayload {
  @ValidateNested() @Type(() => CampaignSpecDto) campaign!: CampaignSpecDto;
  /** With campaign and profile, the key an email is sent at most once for (e.g. the cart id). */
  @IsString() @Length(1, 256) triggerKey!: string;
  @ValidateNested() @Type(() => TriggerDto) trigger!: TriggerDto;
  @ValidateNested() @Type(() => ProfileSnapshotDto) profile!: ProfileSnapshotDto;
  @IsOptional() @IsObject() context?: Record<string, unknown>;
}
