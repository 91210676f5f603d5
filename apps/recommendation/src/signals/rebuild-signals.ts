import { type NatsConnection } from '@nats-io/transport-node';
import { type Redis } from 'ioredis';
import { type Db } from 'mongodb';
import { CatalogRepository } from '../catalog/catalog.repository.js';
import { LearnFromEventUseCase } from '../catalog/learn-from-event.usecase.js';
import { SignalStore } from './signal-store.js';
import { readTrackHistory } from './track-history.js';

export interface RebuildReport {
  cleared: number;
  replayed: number;
  skipped: number;
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
  const learn = new LearnFromEventUseCase(new CatalogRepository(db), signals);
  const cleared = await signals.clear();
  const { read, invalid } = await readTrackHistory(nc, (envelope) => learn.execute(envelope));
  return { cleared, replayed: read, skipped: invalid, durationMs: Date.now() - started };
}
