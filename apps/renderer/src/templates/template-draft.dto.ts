import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Min,
  ValidateNested,
} from 'class-validator';
import { FIELD_TYPES, type FieldType } from './data-schema.js';

export const PARTIAL_NAME = /^[a-z0-9][a-z0-9_-]{0,127}$/;

class FieldFallbackDto {
  @IsOptional()
  @IsString({ message: 'default must be a string or a number' })
  @Type(() => String)
  default?: string;
  @IsOptional() @IsString() @Length(1, 100_000) block?: string;
  @IsOptional() @IsString() @Length(1, 50_000) blockText?: string;
  @IsOptional()
  @Matches(/^[A-Z][A-Z0-9_]{0,63}$/, { message: 'abort must be a reason code like NO_PRODUCTS' })
  abort?: string;
  @IsOptional() @IsString() @Length(1, 2000) reason?: string;
}

/** One field of a version's data: its path under `it`, its type, and its fallback when optional. */
class DataFieldDto {
  @Matches(/^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,4}$/, {
    message: 'path must be a field path under it, like first_name or computed.rfm_segment',
  })
  path!: string;
  @IsIn(FIELD_TYPES) type!: FieldType;
  @IsOptional() @IsBoolean() required?: boolean;
  @IsOptional() @ValidateNested() @Type(() => FieldFallbackDto) fallback?: FieldFallbackDto;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @Matches(/^[A-Za-z_$][\w$]{0,63}$/, {
    each: true,
    message: 'items must be field names, like name or price',
  })
  items?: string[];
}

/** A new draft version of a template: its parts in Eta, over `it`, and the data it declares. */
export class TemplateDraftDto {
  @IsString() @Length(1, 998) subject!: string;
  @IsString() @Length(1, 1_000_000) html!: string;
  /** Without a text part, one is made from each rendered html. */
  @IsOptional() @IsString() @Length(0, 500_000) text?: string;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  @Type(() => DataFieldDto)
  data?: DataFieldDto[];
  @IsOptional()
  @Matches(PARTIAL_NAME, { message: 'layout must be the name of a registered layout' })
  layout?: string;
}

export class PartialNameDto {
  @Matches(PARTIAL_NAME, { message: 'name must be 1-128 of a-z, 0-9, "-" and "_"' }) name!: string;
}

/** A partial or layout; a layout places the html at `{{> body }}`. */
export class PartialDto {
  @IsString() @Length(1, 500_000) source!: string;
}

export const TEMPLATE_ID = /^[a-z0-9][a-z0-9_-]{0,127}$/;

export class TemplateIdDto {
  @Matches(TEMPLATE_ID, { message: 'templateId must be 1-128 of a-z, 0-9, "-" and "_"' }) templateId!: string;
}

export class TemplateVersionParamsDto extends TemplateIdDto {
  @Type(() => Number) @IsInt() @Min(1) version!: number;
}
