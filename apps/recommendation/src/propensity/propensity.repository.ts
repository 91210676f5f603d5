import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';
import { type FeatureName, type Features } from './features.js';
import { type ClassifierMetrics } from './metrics.js';

export interface FeatureRow {
  _id: string;
  profileId: string;
  at: Date;
  features: Features;
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

/** Feature snapshots, purchases (labels) and versioned models in MongoDB. */
@Injectable()
export class PropensityRepository implements OnModuleInit {
  readonly features: Collection<FeatureRow>;
  readonly purchases: Collection<PurchaseRow>;
  readonly models: Collection<ModelDocument>;
  private readonly pointers: Collection<{ _id: string; version?: string; sequence: number }>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.features = db.collection('feature_rows');
    this.purchases = db.collection('purchases');
    this.models = db.collection('models');
    this.pointers = db.collection('model_pointers');
  }

  async onModuleInit(): Promise<void> {
    await this.features.createIndex({ profileId: 1, at: -1 });
    await this.purchases.createIndex({ profileId: 1 });
  }

  /** One row per profile per day: the day's newest snapshot (an older redelivery changes nothing). */
  async saveFeatures(row: Omit<FeatureRow, '_id' | 'schemaVersion'>): Promise<void> {
    const _id = `${row.profileId}:${Math.floor(row.at.getTime() / DAY_MS)}`;
    try {
      await this.features.updateOne(
        { _id, $or: [{ at: { $lte: row.at } }, { at: { $exists: false } }] },
        { $set: { ...row, schemaVersion: 1 } },
        { upsert: true },
      );
    } catch (error) {
      if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
    }
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
    if (model.promoted)
      await this.pointers.updateOne({ _id: 'propensity' }, { $set: { version: model._id } });
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
