import { IsBoolean, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { type WebhookMappingName } from '../webhooks/mapping-names.js';
import { IsWebhookMapping } from '../webhooks/webhook-mapping-check.js';

const SOURCE_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** `POST /api/sources` */
export class CreateSourceDto {
  @Matches(SOURCE_ID, { message: 'id must be 1-64 of a-z, 0-9, _ and -, starting with a letter or digit' })
  id!: string;

  @IsString() @Length(1, 200) name!: string;

  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) rateLimitPerSecond?: number;

  /** A built-in mapping's name (shopify, woocommerce) or a custom declarative mapping (see WebhookMapping). */
  @IsOptional()
  @IsWebhookMapping()
  webhookMapping?: WebhookMappingName | Record<string, unknown>;
}

/** `PATCH /api/sources/{id}`: only the fields sent change. */
export class UpdateSourceDto {
  @IsOptional() @IsString() @Length(1, 200) name?: string;
  @IsOptional() @IsBoolean() enabled?: boolean;
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) rateLimitPerSecond?: number;

  /** A built-in mapping's name (shopify, woocommerce) or a custom declarative mapping (see WebhookMapping). */
  @IsOptional()
  @IsWebhookMapping()
  webhookMapping?: WebhookMappingName | Record<string, unknown>;
}
