import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { RECOMMENDATION_STRATEGIES, type RecommendationStrategy } from '@mesh/contracts';

export class RecommendationContextDto {
  /** Product ids the customer browsed, newest first. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @Length(1, 256, { each: true })
  browsing_history?: string[];
  /** Product ids the customer bought: never recommended. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Length(1, 256, { each: true })
  purchase_history?: string[];
  /** Product ids in the cart (bought-together seeds; not recommended). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @Length(1, 256, { each: true })
  cart?: string[];
}

/** The seed's request: a customer, what we know of their context, a strategy and a count. */
export class RecommendationRequestDto {
  /** A source user id (resolved to its profile) or a profile id. */
  @IsString() @Length(1, 256) customer_id!: string;
  @IsOptional() @ValidateNested() @Type(() => RecommendationContextDto) context?: RecommendationContextDto;
  @IsOptional() @IsIn(RECOMMENDATION_STRATEGIES) strategy?: RecommendationStrategy;
  @IsOptional() @IsInt() @Min(1) @Max(50) count?: number;
  @IsOptional() @IsString() @Length(1, 256) category?: string;
  @IsOptional() @IsNumber() @Min(0) min_price?: number;
  @IsOptional() @IsNumber() @Min(0) max_price?: number;
  @IsOptional() @IsInt() @Min(1) @Max(50) max_per_category?: number;
}
