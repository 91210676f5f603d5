import { Inject, Injectable } from '@nestjs/common';
import { type ProductDto } from '@mesh/contracts';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';

/** A product of the catalog: what events and the admin said about it, and its stock if known. */
export interface CatalogProduct extends ProductDto {
  stock?: number;
}

interface ProductDocument extends Omit<CatalogProduct, 'product_id' | 'quantity'> {
  _id: string;
  updatedAt: Date;
  schemaVersion: 1;
}

/** Products as events and the admin describe them; the newest description of each field wins. */
@Injectable()
export class CatalogRepository {
  private readonly products: Collection<ProductDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.products = db.collection<ProductDocument>('products');
  }

  async upsert(products: readonly CatalogProduct[]): Promise<void> {
    if (products.length === 0) return;
    await this.products.bulkWrite(
      products.map(({ product_id: id, quantity: _quantity, ...fields }) => ({
        updateOne: {
          filter: { _id: id },
          update: { $set: { ...fields, updatedAt: new Date() }, $setOnInsert: { schemaVersion: 1 as const } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  async find(ids: readonly string[]): Promise<CatalogProduct[]> {
    if (ids.length === 0) return [];
    const documents = await this.products.find({ _id: { $in: [...ids] } }).toArray();
    const byId = new Map(
      documents.map(({ _id, updatedAt: _updatedAt, schemaVersion: _version, ...fields }) => [
        _id,
        { product_id: _id, ...fields },
      ]),
    );
    return ids
      .map((id) => byId.get(id))
      .filter((product): product is CatalogProduct => product !== undefined);
  }

  async get(id: string): Promise<CatalogProduct | undefined> {
    return (await this.find([id]))[0];
  }
}
