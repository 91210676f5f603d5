import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { type ProductDto } from '@mesh/contracts';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';
import { ChangeNotices } from '@mesh/storage';

/** A product of the catalog: what events and the admin said about it, and its stock if known. */
export interface CatalogProduct extends ProductDto {
  stock?: number;
}

interface ProductDocument extends Omit<CatalogProduct, 'product_id' | 'quantity'> {
  _id: string;
  updatedAt: Date;
  schemaVersion: 1;
}

/** A change of more products than this tells other replicas to read the catalog whole again. */
const NAMED_CHANGES = 1_000;
const TOPIC = 'catalog';

interface CatalogChange {
  /** The replica that wrote (it has the change already). */
  from: string;
  /** The products written; absent: many, read the whole catalog again. */
  ids?: string[];
}

/**
 * Products as events and the admin describe them; the newest description of each field wins.
 *
 * Every recommendation checks stock, price and category of up to a few hundred candidates, and every
 * e-commerce event names products, so the catalog is held in memory: read whole once, then, when a
 * replica writes products, it names them in a change notice and every other replica reads those by
 * `_id` (no range read on a timer). An event that repeats what the catalog already says writes nothing.
 */
@Injectable()
export class CatalogRepository implements OnModuleInit {
  private readonly products: Collection<ProductDocument>;
  private readonly replica = randomUUID();
  private snapshot: Map<string, CatalogProduct> | undefined;
  private loading: Promise<Map<string, CatalogProduct>> | undefined;

  constructor(
    @Inject(MONGO_DB) db: Db,
    private readonly notices: ChangeNotices,
  ) {
    this.products = db.collection<ProductDocument>('products');
  }

  async onModuleInit(): Promise<void> {
    await this.notices.listen(TOPIC, (message) => this.changed(message));
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
    const ids = [...new Set(changed.map((product) => product.product_id))];
    const change: CatalogChange = { from: this.replica, ...(ids.length <= NAMED_CHANGES ? { ids } : {}) };
    // Announced before this replica's memory takes the change: if the announcement fails, the
    // redelivered message still finds the change new here, so it writes and announces it again.
    await this.notices.announce(TOPIC, JSON.stringify(change));
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

  /** The snapshot, loaded on first use. */
  private async current(): Promise<Map<string, CatalogProduct>> {
    if (this.snapshot) return this.snapshot;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<Map<string, CatalogProduct>> {
    const catalog = new Map<string, CatalogProduct>();
    for await (const document of this.products.find({}, { batchSize: 5_000 }))
      catalog.set(document._id, productOf(document));
    this.snapshot = catalog;
    return catalog;
  }

  /** Another replica wrote products (or notices may have been missed: `undefined`). */
  private async changed(message: string | undefined): Promise<void> {
    const change = message === undefined ? undefined : (JSON.parse(message) as CatalogChange);
    if (change?.from === this.replica) return;
    // A load under way may have read before the change: what changed is read after it.
    if (this.loading) await this.loading;
    if (!this.snapshot) return;
    if (!change?.ids) {
      await this.load();
      return;
    }
    const catalog = this.snapshot;
    const documents = await Promise.all(change.ids.map((_id) => this.products.findOne({ _id })));
    for (const document of documents) if (document) catalog.set(document._id, productOf(document));
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
