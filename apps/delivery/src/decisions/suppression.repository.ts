import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';

export const SUPPRESSION_REASONS = [
  'hard_bounce',
  'complaint',
  'soft_bounces',
  'unsubscribe',
  'manual',
  'erased',
] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface Suppression {
  reason: SuppressionReason;
  source: string;
  at: Date;
  note?: string;
}

interface SuppressionDocument extends Suppression {
  /** SHA-256 of the normalized address: the list never holds an address itself. */
  _id: string;
  schemaVersion: 1;
}

/** The normalized address's hash, the suppression list's key. */
export function addressHash(address: string): string {
  return createHash('sha256').update(address.trim().toLowerCase()).digest('hex');
}

/** Addresses never to be mailed (or, for `unsubscribe`, never sent marketing), by hash. */
@Injectable()
export class SuppressionRepository {
  private readonly suppressions: Collection<SuppressionDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.suppressions = db.collection<SuppressionDocument>('suppressions');
  }

  /** Adds the address; an entry already there keeps its first reason (and date). */
  async add(address: string, entry: Suppression): Promise<void> {
    await this.suppressions.updateOne(
      { _id: addressHash(address) },
      { $setOnInsert: { ...entry, schemaVersion: 1 } },
      { upsert: true },
    );
  }

  async find(address: string): Promise<Suppression | undefined> {
    const document = await this.suppressions.findOne({ _id: addressHash(address) });
    if (!document) return undefined;
    return {
      reason: document.reason,
      source: document.source,
      at: document.at,
      ...(document.note ? { note: document.note } : {}),
    };
  }

  async remove(address: string): Promise<boolean> {
    return (await this.suppressions.deleteOne({ _id: addressHash(address) })).deletedCount === 1;
  }
}
