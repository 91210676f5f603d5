import { Inject, Injectable, Optional } from '@nestjs/common';
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

/** How often the in-memory catalog picks up what other replicas wrote. */
const REFRESH_MS = 30_000;
/** Injection token of another refresh interval (ms), e.g. in tests. */
export const CATALOG_REFRESH_MS = Symbol('CATALOG_REFRESH_MS');
/** Changes written up to this long before the newest one seen are read again (clock skew of replicas). */
const REFRESH_OVERLAP_MS = 60_000;

/**
 * Products as events and the admin describe them; the newest description of each field wins.
 *
 * Every recommendation checks stock, price and category of up to a few hundred candidates, and every
 * e-commerce event names products; FerretDB answers any filtered read (even by `_id`) with a scan of
 * the collection (70 ms a read at 50 000 products), so the catalog is held in memory: read whole once,
 * then every REFRESH_MS only what changed since (by `updatedAt`). Writes through this replica apply at
 * once; another replica's writes are seen within REFRESH_MS. An event that repeats what the catalog
 * already says writes nothing.
 */
@Injectable()
export class CatalogRepository {
  private readonly products: Collection<ProductDocument>;
  private snapshot: Map<string, CatalogProduct> | undefined;
  private loading: Promise<Map<string, CatalogProduct>> | undefined;
  private refreshing: Promise<void> | undefined;
  private newest = 0;
  private refreshedAt = 0;
  private readonly refreshMs: number;

  constructor(@Inject(MONGO_DB) db: Db, @Optional() @Inject(CATALOG_REFRESH_MS) refreshMs?: number) {
    this.products = db.collection<ProductDocument>('products');
    this.refreshMs = refreshMs ?? REFRESH_MS;
  }

  /** Writes the products' given fields; those that change nothing known are not written. */
  async upsert(products: readonly CatalogProduct[]): Promise<void> {
    if (products.length === 0) return;
    const catalog = await this.current();
    const changed = products.filter((product) => !describes(catalog.get(product.product_id), product));
    if (changed.length === 0) return;
    const updatedAt = new Date();
    await this.products.bulkWrite(
      changed.map(({ product_id: id, quantity: _quantity, ...fields }) => ({
        updateOne: {
          filter: { _id: id },
          update: { $set: { ...defined(fields), updatedAt }, $setOnInsert: { schemaVersion: 1 as const } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
    for (const { product_id: id, quantity: _quantity, ...fields } of changed)
      catalog.set(id, { ...catalog.get(id), ...defined(fields), product_id: id });
  }

  /** The known products among `ids`, in that order. */
  async find(ids: readonly string[]): Promise<CatalogProduct[]> {
    if (ids.length === 0) return [];
    const catalog = await this.current();
    return ids
      .map((id) => catalog.get(id))
      .filter((product): product is CatalogProduct => product !== undefined);
  }

  /** Read through to MongoDB (the admin API answers what is stored, not the snapshot). */
  async get(id: string): Promise<CatalogProduct | undefined> {
    const catalog = await this.current();
    const document = await this.products.findOne({ _id: id });
    if (!document) return undefined;
    const product = productOf(document);
    catalog.set(id, product);
    return product;
  }

  /** The snapshot, loaded on first use and refreshed in the background (requests never wait for it). */
  private async current(): Promise<Map<string, CatalogProduct>> {
    if (!this.snapshot) {
      this.loading ??= this.load().finally(() => (this.loading = undefined));
      return this.loading;
    }
    if (!this.refreshing && Date.now() - this.refreshedAt >= this.refreshMs)
      this.refreshing = this.refresh()
        .catch(() => undefined) // kept as is; tried again at the next request after refreshMs
        .finally(() => (this.refreshing = undefined));
    return this.snapshot;
  }

  private async load(): Promise<Map<string, CatalogProduct>> {
    const catalog = new Map<string, CatalogProduct>();
    this.refreshedAt = Date.now();
    for await (const document of this.products.find({}, { batchSize: 5_000 })) this.add(catalog, document);
    this.snapshot = catalog;
    return catalog;
  }

  private async refresh(): Promise<void> {
    this.refreshedAt = Date.now();
    const since = new Date(this.newest - REFRESH_OVERLAP_MS);
    const catalog = this.snapshot!;
    for await (const document of this.products.find({ updatedAt: { $gte: since } }, { batchSize: 5_000 }))
      this.add(catalog, document);
  }

  private add(catalog: Map<string, CatalogProduct>, document: ProductDocument): void {
    catalog.set(document._id, productOf(document));
    this.newest = Math.max(this.newest, document.updatedAt?.getTime() ?? 0);
  }
}

function productOf({
  _id,
  updatedAt: _updatedAt,
  schemaVersion: _version,
  ...fields
}: ProductDocument): CatalogProduct {
  return { product_id: _id, ...fields };
}

/** True when `known` already has every field `product` gives, with the same value. */
function describes(known: CatalogProduct | undefined, product: CatalogProduct): boolean {
  if (!known) return false;
  return Object.entries(product).every(
    ([field, value]) =>
      field === 'quantity' || value === undefined || known[field as keyof CatalogProduct] === value,
  );
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
