import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoBulkWriteError } from 'mongodb';
import { ChangeNotices } from '@mesh/storage';
import { type FeatureName, type Features } from './features.js';
import { type ClassifierMetrics } from './metrics.js';

export interface FeatureRow {
  _id: string;
  profileId: string;
  at: Date;
  features: Features;
  /** The profile version the snapshot is of: the day's row keeps the highest. */
  version?: number;
  country?: string;
  schemaVersion: 1;
}

export interface PurchaseRow {
  _id: string;
  profileId: string;
  at: Date;
}

export interface SegmentMetrics extends ClassifierMetrics {
  segment: string;
  /** Well below the overall figure (AUC or recall more than 0.1 under it, n ≥ 20). */
  flagged: boolean;
}

export interface ModelDocument {
  _id: string;
  trainedAt: Date;
  horizonDays: number;
  featureNames: FeatureName[];
  trainRows: number;
  sampleRows: number;
  holdoutFrom: Date;
  metrics: ClassifierMetrics;
  /** The promoted model's metrics on the same holdout, when there was one. */
  previous?: { version: string; metrics: ClassifierMetrics };
  promoted: boolean;
  reason: string;
  segments: SegmentMetrics[];
  trainingMs: number;
  forest: string;
  schemaVersion: 1;
}

const DAY_MS = 24 * 3600_000;
const DUPLICATE_KEY = 11000;
/** Announced when another model is promoted: replicas read which one again. */
export const PROMOTED_MODEL_TOPIC = 'propensity-model';
/**
 * How long a feature row waits for others before they are written together: snapshots do not hold
 * up any email, and a profile's snapshots of one moment (identify, then the cart) become one write.
 */
const FEATURES_LINGER_MS = 200;
/** Rows written at once without waiting longer (half the default handler slots). */
const FEATURES_BATCH = 32;

type NewFeatureRow = Omit<FeatureRow, '_id' | 'schemaVersion'>;

interface PendingRow {
  row: NewFeatureRow;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Feature rows of many handlers written as one `bulkWrite` of upserts, the newest of each profile's
 * day only; every caller resolves once the write is durable.
 */
class FeatureRowBatch {
  private queue: PendingRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly features: Collection<FeatureRow>) {}

  save(row: NewFeatureRow): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (this.queue.length >= FEATURES_BATCH) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), FEATURES_LINGER_MS);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    this.writing = this.writing.then(() => this.write(batch));
  }

  private async write(batch: PendingRow[]): Promise<void> {
    const newest = new Map<string, NewFeatureRow>();
    for (const { row } of batch) {
      const id = rowIdOf(row);
      const held = newest.get(id);
      if (!held || !newer(held, row)) newest.set(id, row);
    }
    try {
      await this.features.bulkWrite(
        [...newest].map(([_id, row]) => ({
          updateOne: {
            // A row of the same day that is newer already stays (a late or redelivered snapshot):
            // by profile version (a later version may come from an earlier event), else by time.
            filter:
              row.version === undefined
                ? { _id, at: { $lte: row.at } }
                : { _id, version: { $not: { $gt: row.version } } },
            update: { $set: { ...row, schemaVersion: 1 as const } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    } catch (error) {
      const writeErrors = error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : undefined;
      // The upsert of a row that has a newer one meets its `_id`: nothing to write, as intended.
      if (!writeErrors?.every((writeError) => writeError.code === DUPLICATE_KEY)) {
        for (const pending of batch) pending.reject(error);
        return;
      }
    }
    for (const pending of batch) pending.resolve();
  }
}

/** Whether `held` is a newer snapshot of its profile than `row` (by version when both have one). */
const newer = (held: NewFeatureRow, row: NewFeatureRow) =>
  held.version !== undefined && row.version !== undefined ? held.version > row.version : held.at > row.at;

/** One row per profile per day. */
const rowIdOf = (row: NewFeatureRow) => `${row.profileId}:${Math.floor(row.at.getTime() / DAY_MS)}`;

/** Feature snapshots, purchases (labels) and versioned models in MongoDB. */
@Injectable()
export class PropensityRepository implements OnModuleInit {
  readonly features: Collection<FeatureRow>;
  readonly purchases: Collection<PurchaseRow>;
  readonly models: Collection<ModelDocument>;
  private readonly pointers: Collection<{ _id: string; version?: string; sequence: number }>;
  private readonly featureRows: FeatureRowBatch;

  constructor(
    @Inject(MONGO_DB) db: Db,
    private readonly notices: ChangeNotices,
  ) {
    this.features = db.collection('feature_rows');
    this.purchases = db.collection('purchases');
    this.models = db.collection('models');
    this.pointers = db.collection('model_pointers');
    this.featureRows = new FeatureRowBatch(this.features);
  }

  async onModuleInit(): Promise<void> {
    await this.features.createIndex({ profileId: 1, at: -1 });
    await this.purchases.createIndex({ profileId: 1 });
  }

  /**
   * One row per profile per day: the day's newest snapshot (an older redelivery changes nothing).
   * Written with the rows of other handlers (FeatureRowBatch); resolves once durable.
   */
  saveFeatures(row: NewFeatureRow): Promise<void> {
    return this.featureRows.save(row);
  }

  async savePurchase(row: PurchaseRow): Promise<void> {
    await this.purchases.updateOne({ _id: row._id }, { $setOnInsert: row }, { upsert: true });
  }

  async promotedVersion(): Promise<string | undefined> {
    return (await this.pointers.findOne({ _id: 'propensity' }))?.version;
  }

  async nextVersion(): Promise<string> {
    const pointer = await this.pointers.findOneAndUpdate(
      { _id: 'propensity' },
      { $inc: { sequence: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    return `propensity-${pointer?.sequence ?? 1}`;
  }

  async saveModel(model: ModelDocument): Promise<void> {
    await this.models.insertOne(model);
    if (!model.promoted) return;
    await this.pointers.updateOne({ _id: 'propensity' }, { $set: { version: model._id } });
    await this.notices.announce(PROMOTED_MODEL_TOPIC);
  }

  async model(version: string): Promise<ModelDocument | null> {
    return this.models.findOne({ _id: version });
  }

  async listModels(): Promise<Omit<ModelDocument, 'forest'>[]> {
    return this.models
      .find({}, { projection: { forest: 0 } })
      .sort({ trainedAt: -1 })
      .limit(50)
      .toArray();
  }

  async forget(profileId: string): Promise<Record<string, number>> {
    const features = await this.features.deleteMany({ profileId });
    const purchases = await this.purchases.deleteMany({ profileId });
    return { featureRows: features.deletedCount, purchases: purchases.deletedCount };
  }
}
