import { type NatsConnection } from '@nats-io/transport-node';
import { type Redis } from 'ioredis';
import { type Db } from 'mongodb';
import { ChangeNotices } from '@mesh/storage';
import { CatalogRepository } from '../catalog/catalog.repository.js';
import { LearnFromEventUseCase } from '../catalog/learn-from-event.usecase.js';
import { LatestFeatures } from '../propensity/latest-features.js';
import { type FeatureRow } from '../propensity/propensity.repository.js';
import { SignalStore } from './signal-store.js';
import { readTrackHistory } from './track-history.js';

export interface RebuildReport {
  cleared: number;
  replayed: number;
  skipped: number;
  /** Profiles whose newest feature snapshot was put back from MongoDB (for scoring at send time). */
  featureProfiles: number;
  durationMs: number;
}

/**
 * Rebuilds the Redis signals from the IDENTITY stream: drops them, then replays every
 * `identity.resolved.track` still in the stream, in stream order, through the same code as the live
 * consumer. Messages the live consumer records meanwhile are counted once (same message ids).
 */
export async function rebuildSignals(nc: NatsConnection, redis: Redis, db: Db): Promise<RebuildReport> {
  const started = Date.now();
  const signals = new SignalStore(redis);
  const learn = new LearnFromEventUseCase(new CatalogRepository(db, new ChangeNotices(redis)), signals);
  const cleared = await signals.clear();
  const { read, invalid } = await readTrackHistory(nc, (envelope) => learn.execute(envelope));
  const featureProfiles = await restoreLatestFeatures(redis, db);
  return { cleared, replayed: read, skipped: invalid, featureProfiles, durationMs: Date.now() - started };
}

/** Puts each profile's newest feature row back into Redis: one read of the rows, pipelined writes. */
async function restoreLatestFeatures(redis: Redis, db: Db): Promise<number> {
  const latest = new LatestFeatures(redis);
  const profiles = new Set<string>();
  let batch: FeatureRow[] = [];
  for await (const row of db
    .collection<FeatureRow>('feature_rows')
    .find({}, { projection: { profileId: 1, at: 1, features: 1, version: 1 }, batchSize: 5_000 })) {
    profiles.add(row.profileId);
    batch.push(row);
    if (batch.length === 1_000) {
      await latest.saveMany(batch);
      batch = [];
    }
  }
  await latest.saveMany(batch);
  return profiles.size;
}
