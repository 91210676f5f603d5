import { IsNumber, IsOptional, IsString, IsUrl, Length, Min } from 'class-validator';

/** A product as the e-commerce events of EVENTS.md carry it, and as recommendations return it. */
export class ProductDto {
  @IsString() @Length(1, 256) product_id!: string;
  @IsOptional() @IsString() @Length(1, 256) sku?: string;
  @IsOptional() @IsString() @Length(1, 256) category?: string;
  @IsOptional() @IsString() @Length(1, 512) name?: string;
  @IsOptional() @IsString() @Length(1, 256) brand?: string;
  @IsOptional() @IsNumber() price?: number;
  @IsOptional() @IsString() @Length(3, 3) currency?: string;
  @IsOptional() @IsNumber() @Min(0) quantity?: number;
  @IsOptional() @IsUrl({ require_tld: false }) url?: string;
  @IsOptional() @IsUrl({ require_tld: false }) image_url?: string;
}
