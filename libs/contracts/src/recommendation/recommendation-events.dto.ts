import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length, ValidateNested } from 'class-validator';
import { ProductDto } from '../common/product.dto.js';
import {
  RECOMMENDATION_STRATEGIES,
  type RecommendationStrategy,
  SendIntentPayload,
} from '../enrichment/enrichment-events.dto.js';

export class RecommendationsDto {
  @IsIn(RECOMMENDATION_STRATEGIES) strategy!: RecommendationStrategy;
  @IsOptional() @IsString() @Length(1, 128) modelVersion?: string;
  @IsArray() @ArrayMaxSize(50) @ValidateNested({ each: true }) @Type(() => ProductDto) items!: ProductDto[];
}

/** `recommendation.attached`: the send intent with its products. */
export class RecommendedSendPayload extends SendIntentPayload {
  @ValidateNested() @Type(() => RecommendationsDto) recommendations!: RecommendationsDto;
}
