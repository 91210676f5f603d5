import { RecommendationSpecDto, SendPolicyDto } from '@mesh/contracts';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsRule } from '../rules/is-rule.decorator.js';
import { type Rule } from '../rules/rule.js';
import { REENTRY_MODES, type ReentryMode } from './campaign.js';

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const ID_MESSAGE = '$property must be 1–128 letters, digits, "-" or "_", starting with a letter or digit';

export class TriggerSpecDto {
  @IsString() @Length(1, 256) event!: string;
  @IsOptional() @IsRule() conditions?: Rule;
}

export class CancelIfDto {
  @IsString() @Length(1, 256) event!: string;
  @IsOptional() @IsRule() conditions?: Rule;
}

export class WaitDto {
  @IsInt() @Min(1) @Max(90 * 86_400) seconds!: number;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => CancelIfDto)
  cancelIf?: CancelIfDto[];
}

export class AudienceDto {
  @Matches(ID_PATTERN, { message: ID_MESSAGE }) segmentId!: string;
}

export class ReentryDto {
  @IsIn(REENTRY_MODES) mode!: ReentryMode;
  @IsOptional() @IsInt() @Min(1) cooldownSeconds?: number;
}

export class VariantDto {
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: '$property must be 1–64 letters, digits, "-" or "_"' })
  name!: string;
  @IsNumber() @Min(0) @Max(1000) weight!: number;
  @IsOptional() @IsString() @Length(1, 128) templateId?: string;
  @IsOptional() @IsInt() @Min(1) templateVersion?: number;
}

/** A campaign as admins write it (PUT /api/campaigns/:id takes the same without campaignId). */
export class CampaignBodyDto {
  @IsString() @Length(1, 256) name!: string;
  @IsBoolean() enabled!: boolean;
  @IsOptional() @ValidateNested() @Type(() => TriggerSpecDto) trigger?: TriggerSpecDto;
  @IsOptional() @ValidateNested() @Type(() => WaitDto) wait?: WaitDto;
  @IsOptional() @ValidateNested() @Type(() => AudienceDto) audience?: AudienceDto;
  @IsOptional() @ValidateNested() @Type(() => ReentryDto) reentry?: ReentryDto;
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @ValidateNested({ each: true })
  @Type(() => VariantDto)
  variants?: VariantDto[];
  @IsOptional() @IsNumber() @Min(0) @Max(100) holdoutPercent?: number;
  @IsString() @Length(1, 128) templateId!: string;
  @IsOptional() @IsInt() @Min(1) templateVersion?: number;
  @IsOptional() @IsInt() @Min(0) @Max(100) priority?: number;
  @IsOptional() @IsString() @Length(1, 320) from?: string;
  @IsOptional() @IsString() @Length(1, 320) replyTo?: string;
  @ValidateNested() @Type(() => RecommendationSpecDto) recommendation!: RecommendationSpecDto;
  @ValidateNested() @Type(() => SendPolicyDto) sendPolicy!: SendPolicyDto;
}

export class CreateCampaignDto extends CampaignBodyDto {
  @Matches(ID_PATTERN, { message: ID_MESSAGE }) campaignId!: string;
}
