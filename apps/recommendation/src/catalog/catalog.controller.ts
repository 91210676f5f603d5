import {
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  UseGuards,
} from '@nestjs/common';
import { AdminTokenGuard } from '@mesh/runtime';
import { CatalogImportDto, CatalogProductDto } from './catalog-product.dto.js';
import { type CatalogProduct, CatalogRepository } from './catalog.repository.js';

/** Catalog admin: one product, or a bulk import of up to 10 000. */
@Controller('api/catalog/products')
@UseGuards(AdminTokenGuard)
export class CatalogController {
  constructor(private readonly catalog: CatalogRepository) {}

  @Post()
  @HttpCode(200)
  async import(@Body() body: CatalogImportDto): Promise<{ imported: number }> {
    await this.catalog.upsert(body.products);
    return { imported: body.products.length };
  }

  @Put(':id')
  async put(@Param('id') id: string, @Body() product: CatalogProductDto): Promise<CatalogProduct> {
    await this.catalog.upsert([{ ...product, product_id: id }]);
    return (await this.catalog.get(id))!;
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<CatalogProduct> {
    const product = await this.catalog.get(id);
    if (!product) throw new NotFoundException({ error: 'not_found', message: `no product ${id}` });
    return product;
  }
}
