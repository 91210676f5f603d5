import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { ProductDto } from '../common/product.dto.js';
import {
  RECOMMENDATION_STRATEGIES,
  type RecommendationStrategy,
  SendIntentPayload,
} from '../enrichment/enrichment-events.dto.js';

/** A recommended product with why it was chosen. */
export class RecommendedItemDto extends ProductDto {
  @IsOptional() @IsNumber() score?: number;
  /** Machine-readable reason, e.g. `bought_together:p-1`, `popular`, `trending:shoes`. */
  @IsOptional() @IsString() @Length(1, 256) reason?: string;
}

export class RecommendationsDto {
  /** The strategy the campaign asked for. */
  @IsIn(RECOMMENDATION_STRATEGIES) strategy!: RecommendationStrategy;
  /** The strategy that produced the items, when a fallback replaced the requested one. */
  @IsOptional() @IsIn(RECOMMENDATION_STRATEGIES) servedBy?: RecommendationStrategy;
  @IsOptional() @IsBoolean() fallback?: boolean;
  @IsOptional() @IsString() @Length(1, 256) fallbackReason?: string;
  @IsOptional() @IsString() @Length(1, 128) modelVersion?: string;
  /** Purchase propensity of the profile in [0, 1], from the promoted model. */
  @IsOptional() @IsNumber() @Min(0) @Max(1) propensity?: number;
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => RecommendedItemDto)
  items!: RecommendedItemDto[];
}

/** `recommendation.attached`: the send intent with its products. */
export class RecommendedSendPayload extends SendIntentPayload {
  @ValidateNested() @Type(() => RecommendationsDto) recommendations!: RecommendationsDto;
}
