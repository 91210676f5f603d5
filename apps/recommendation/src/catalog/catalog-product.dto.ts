import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsOptional, Min, ValidateNested } from 'class-validator';
import { ProductDto } from '@mesh/contracts';

/** A product as the catalog admin describes it; `stock` 0 means it is never recommended. */
export class CatalogProductDto extends ProductDto {
  @IsOptional() @IsInt() @Min(0) stock?: number;
}

export class CatalogImportDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @ValidateNested({ each: true })
  @Type(() => CatalogProductDto)
  products!: CatalogProductDto[];
}
