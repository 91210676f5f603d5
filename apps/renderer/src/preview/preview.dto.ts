import { Type } from 'class-transformer';
import {
  IsArray,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Min,
  ValidateNested,
} from 'class-validator';

/** Data a preview renders with, as a send would carry it. */
export class SampleDataDto {
  @IsObject() traits!: Record<string, unknown>;
  @IsOptional() @IsObject() computed?: Record<string, unknown>;
  @IsOptional() @IsArray() @IsObject({ each: true }) products?: Record<string, unknown>[];
  @IsOptional() @IsObject() trigger?: Record<string, unknown>;
  @IsOptional() @IsString() @Length(1, 128) event?: string;
}

export const SAMPLE_ID = /^[a-z0-9][a-z0-9_-]{0,127}$/;

export class SampleIdDto {
  @Matches(SAMPLE_ID, { message: 'sampleId must be 1-128 of a-z, 0-9, "-" and "_"' }) sampleId!: string;
}

export class PreviewSampleDto extends SampleDataDto {
  @IsOptional() @IsString() @Length(1, 128) profileId?: string;
}

/**
 * `POST /api/templates/{id}/preview`: at most one of a stored sample (`sampleId`), the stored sample of
 * a profile (`profileId`) or sample data (`sample`); a version, else the latest published.
 */
export class PreviewRequestDto {
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) version?: number;
  @IsOptional()
  @Matches(SAMPLE_ID, { message: 'sampleId must name a stored preview sample' })
  sampleId?: string;
  @IsOptional() @IsString() @Length(1, 128) profileId?: string;
  @IsOptional() @ValidateNested() @Type(() => SampleDataDto) sample?: SampleDataDto;
}

/** The fields of a preview request that name its data; at most one may be given. */
export const PREVIEW_DATA_FIELDS = ['sampleId', 'profileId', 'sample'] as const;
