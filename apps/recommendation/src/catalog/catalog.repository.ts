import { Inject, Injectable } from '@nestjs/common';
import { type ProductDto } from '@mesh/contracts';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';

interface ProductDocument extends Omit<ProductDto, 'product_id'> {
  _id: string;
  updatedAt: Date;
  schemaVersion: 1;
}

/** Products as events describe them; the newest description of each field wins. */
@Injectable()
export class CatalogRepository {
  private readonly products: Collection<ProductDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.products = db.collection<ProductDocument>('products');
  }

  async upsert(products: readonly ProductDto[]): Promise<void> {
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

  async find(ids: readonly string[]): Promise<ProductDto[]> {
    const documents = await this.products.find({ _id: { $in: [...ids] } }).toArray();
    const byId = new Map(
      documents.map(({ _id, updatedAt: _updatedAt, schemaVersion: _version, ...fields }) => [
        _id,
        { product_id: _id, ...fields },
      ]),
    );
    return ids.map((id) => byId.get(id)).filter((product): product is ProductDto => product !== undefined);
  }
}
