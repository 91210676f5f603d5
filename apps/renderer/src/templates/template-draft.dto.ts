import { Type } from 'class-transformer';
import { IsInt, IsString, Length, Matches, Min } from 'class-validator';

/** A new draft version of a template: its parts in Eta, over `it`. */
export class TemplateDraftDto {
  @IsString() @Length(1, 998) subject!: string;
  @IsString() @Length(1, 1_000_000) html!: string;
  @IsString() @Length(1, 500_000) text!: string;
}

export const TEMPLATE_ID = /^[a-z0-9][a-z0-9_-]{0,127}$/;

export class TemplateIdDto {
  @Matches(TEMPLATE_ID, { message: 'templateId must be 1-128 of a-z, 0-9, "-" and "_"' }) templateId!: string;
}

export class TemplateVersionParamsDto extends TemplateIdDto {
  @Type(() => Number) @IsInt() @Min(1) version!: number;
}
