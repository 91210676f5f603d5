import { parseEnvelope, SUBJECTS } from '@mesh/contracts';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { type NatsConnection } from '@nats-io/transport-node';
import { type Redis } from 'ioredis';
import { type Db } from 'mongodb';
import { CatalogRepository } from '../catalog/catalog.repository.js';
import { LearnFromEventUseCase } from '../catalog/learn-from-event.usecase.js';
import { SignalStore } from './signal-store.js';

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
  const consumer = await jetstream(nc).consumers.get('IDENTITY', {
    filter_subjects: [SUBJECTS.identity.resolved.track],
    deliver_policy: DeliverPolicy.All,
  });
  let replayed = 0;
  let skipped = 0;
  if ((await consumer.info(true)).num_pending > 0) {
    let done = false;
    while (!done) {
      const batch = await consumer.fetch({ max_messages: 500, expires: 2_000 });
      let received = 0;
      for await (const message of batch) {
        received++;
        try {
          const envelope = parseEnvelope(SUBJECTS.identity.resolved.track, message.json());
          await learn.execute(envelope);
          replayed++;
        } catch {
          skipped++;
        }
        if (message.info.pending === 0) {
          done = true;
          break;
        }
      }
      if (received === 0) done = true;
    }
  }
  return { cleared, replayed, skipped, durationMs: Date.now() - started };
}
