import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsEmail,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Min,
  ValidateNested,
} from 'class-validator';
import { CampaignSpecDto } from '../enrichment/enrichment-events.dto.js';

export class TemplateRefDto {
  @IsString() @Length(1, 128) id!: string;
  @IsInt() @Min(1) version!: number;
}

/** A declared fallback that fired in a render: the field (path under the template's data) and how. */
export class FiredFallbackDto {
  @IsString() @Length(1, 256) field!: string;
  @IsIn(['default', 'block']) kind!: 'default' | 'block';
}

/** `renderer.rendered`: one email, ready to send. */
export class RenderedEmailPayload {
  @ValidateNested() @Type(() => CampaignSpecDto) campaign!: CampaignSpecDto;
  @IsString() @Length(1, 256) triggerKey!: string;
  @ValidateNested() @Type(() => TemplateRefDto) template!: TemplateRefDto;
  @IsEmail() to!: string;
  @IsString() @Length(1, 998) subject!: string;
  @IsString() @Length(1, 2_000_000) html!: string;
  @IsString() @Length(1, 1_000_000) text!: string;
  /** The profile's IANA time zone and locale, for send-time and quiet-hour decisions. */
  @IsOptional() @IsObject() recipient?: Record<string, unknown>;
  /** The template's declared fallbacks that fired (absent when none did). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  @Type(() => FiredFallbackDto)
  fallbacks?: FiredFallbackDto[];
}

export class RenderFailedPayload {
  @ValidateNested() @Type(() => CampaignSpecDto) campaign!: CampaignSpecDto;
  @IsString() @Length(1, 256) triggerKey!: string;
  @IsString() @Length(1, 64) code!: string;
  @IsString() @Length(1, 2048) reason!: string;
}
