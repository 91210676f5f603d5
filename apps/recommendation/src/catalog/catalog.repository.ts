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

const CACHE_MS = 30_000;
const CACHE_SIZE = 100_000;

/** Products as events and the admin describe them; the newest description of each field wins. */
@Injectable()
export class CatalogRepository {
  private readonly products: Collection<ProductDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.products = db.collection<ProductDocument>('products');
  }

  /** Products read in the last CACHE_MS (a replica sees another's changes within that time). */
  private readonly cache = new Map<string, { product: CatalogProduct | undefined; until: number }>();

  async upsert(products: readonly CatalogProduct[]): Promise<void> {
    if (products.length === 0) return;
    for (const product of products) this.cache.delete(product.product_id);
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
    const now = Date.now();
    const missing = ids.filter((id) => (this.cache.get(id)?.until ?? 0) <= now);
    if (missing.length > 0) {
      const found = await this.read(missing);
      if (this.cache.size > CACHE_SIZE) this.cache.clear();
      for (const id of missing) this.cache.set(id, { product: found.get(id), until: now + CACHE_MS });
    }
    return ids
      .map((id) => this.cache.get(id)?.product)
      .filter((product): product is CatalogProduct => product !== undefined);
  }

  private async read(ids: readonly string[]): Promise<Map<string, CatalogProduct>> {
    const documents = await this.products.find({ _id: { $in: [...ids] } }).toArray();
    const byId = new Map(
      documents.map(({ _id, updatedAt: _updatedAt, schemaVersion: _version, ...fields }) => [
        _id,
        { product_id: _id, ...fields },
      ]),
    );
    return byId;
  }

  /** Read through to MongoDB (the admin API answers what is stored, not the cache). */
  async get(id: string): Promise<CatalogProduct | undefined> {
    this.cache.delete(id);
    return (await this.find([id]))[0];
  }
}
