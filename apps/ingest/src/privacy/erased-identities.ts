import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';
import { createHmac } from 'node:crypto';
import { IngestEnv } from '../config.js';

export type ErasableIdentifierType = 'user_id' | 'email';

export interface ErasableIdentifier {
  type: ErasableIdentifierType;
  value: string;
}

interface ErasedIdentityDocument {
  /** HMAC-SHA256 (keyed with INGEST_SECRET_KEY) of the type and normalized value: never the value itself. */
  _id: string;
  erased: boolean;
  erasedAt: Date;
  requestId: string;
  /** Set when a consent opt-in lifted the block. */
  reconsentedAt?: Date;
  /** Every replica polls on this to keep its in-memory set current. */
  changedAt: Date;
  schemaVersion: 1;
}

/** Writes from replicas whose clocks lag ours by up to this much are still picked up by the poll. */
const CLOCK_SKEW_MS = 60_000;

const normalize = (identifier: ErasableIdentifier): string =>
  identifier.type === 'email' ? identifier.value.trim().toLowerCase() : identifier.value;

/**
 * The identities whose erasure was requested, so ingest drops their new events until a consent
 * opt-in re-consents them. MongoDB holds only keyed hashes of the identifiers (a copy of the
 * database does not list who asked to be forgotten); every replica keeps the hashes in memory and
 * polls for changes every INGEST_ERASED_REFRESH_MS, so the hot path costs no round trip. The
 * replica that takes the request (or the opt-in) applies it at once, the others within one poll.
 */
@Injectable()
export class ErasedIdentities implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ErasedIdentities.name);
  private readonly identities: Collection<ErasedIdentityDocument>;
  private readonly key: Buffer;
  private readonly erased = new Set<string>();
  private syncedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Polls and local writes run one at a time, so a poll read before a local change cannot undo it. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(MONGO_DB) db: Db,
    @Inject(IngestEnv) private readonly env: IngestEnv,
  ) {
    this.identities = db.collection<ErasedIdentityDocument>('erased_identities');
    this.key = createHmac(
      'sha256',
      env.INGEST_SECRET_KEY ? Buffer.from(env.INGEST_SECRET_KEY, 'hex') : env.MESH_ADMIN_TOKEN,
    )
      .update('ingest erased identities')
      .digest();
  }

  async onModuleInit(): Promise<void> {
    await this.identities.createIndex({ changedAt: 1 }, { name: 'changed_at' });
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) =>
        this.logger.warn(`could not refresh the erased identities: ${String(error)}`),
      );
    }, this.env.INGEST_ERASED_REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Marks the identities erased (before the erasure is announced, so no later event slips through). */
  erase(identifiers: ErasableIdentifier[], requestId: string, at: Date): Promise<void> {
    return this.exclusive(() => this.eraseNow(identifiers, requestId, at));
  }

  private async eraseNow(identifiers: ErasableIdentifier[], requestId: string, at: Date): Promise<void> {
    if (identifiers.length === 0) return;
    const hashes = identifiers.map((identifier) => this.hash(identifier));
    await this.identities.bulkWrite(
      hashes.map((hash) => ({
        updateOne: {
          filter: { _id: hash },
          update: {
            $set: { erased: true, erasedAt: at, requestId, changedAt: new Date() },
            $unset: { reconsentedAt: '' },
            $setOnInsert: { schemaVersion: 1 as const },
          },
          upsert: true,
        },
      })),
      { ordered: false },
    );
    for (const hash of hashes) this.erased.add(hash);
  }

  /**
   * Lifts the block for identities the person opted in with, stated at `at`; a statement older
   * than the erasure (a replayed or back-dated opt-in) does not lift it.
   */
  reconsent(identifiers: ErasableIdentifier[], at: Date): Promise<void> {
    return this.exclusive(() => this.reconsentNow(identifiers, at));
  }

  private async reconsentNow(identifiers: ErasableIdentifier[], at: Date): Promise<void> {
    const hashes = identifiers.map((identifier) => this.hash(identifier));
    if (!hashes.some((hash) => this.erased.has(hash))) {
      // Another replica may have erased it since our last poll: ask the source of truth.
      await this.refreshNow();
      if (!hashes.some((hash) => this.erased.has(hash))) return;
    }
    const now = new Date();
    await this.identities.updateMany(
      { _id: { $in: hashes }, erased: true, erasedAt: { $lte: at } },
      { $set: { erased: false, reconsentedAt: now, changedAt: now } },
    );
    const lifted = await this.identities
      .find({ _id: { $in: hashes }, erased: false }, { projection: { _id: 1 } })
      .toArray();
    for (const { _id } of lifted) this.erased.delete(_id);
  }

  /** True when any of the identities is erased and not re-consented; in memory, no round trip. */
  isErased(identifiers: ErasableIdentifier[]): boolean {
    if (this.erased.size === 0) return false;
    return identifiers.some((identifier) => this.erased.has(this.hash(identifier)));
  }

  /** Applies every change written since the last poll (by any replica). */
  refresh(): Promise<void> {
    return this.exclusive(() => this.refreshNow());
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async refreshNow(): Promise<void> {
    const since = new Date(this.syncedUntil - CLOCK_SKEW_MS);
    const changed = await this.identities
      .find({ changedAt: { $gt: since } }, { projection: { _id: 1, erased: 1, changedAt: 1 } })
      .sort({ changedAt: 1 })
      .toArray();
    for (const document of changed) {
      if (document.erased) this.erased.add(document._id);
      else this.erased.delete(document._id);
      this.syncedUntil = Math.max(this.syncedUntil, document.changedAt.getTime());
    }
  }

  private hash(identifier: ErasableIdentifier): string {
    return createHmac('sha256', this.key)
      .update(`${identifier.type}\u0000${normalize(identifier)}`)
      .digest('base64url');
  }
}

/** The person identifiers a call carries: its userId (and alias's previousId), emails in traits and context. */
export function identifiersOf(event: {
  userId?: string | undefined;
  previousId?: unknown;
  traits?: unknown;
  context?: Record<string, unknown> | undefined;
}): ErasableIdentifier[] {
  const identifiers: ErasableIdentifier[] = [];
  const addUser = (value: unknown) => {
    if (typeof value !== 'string' || value === '') return;
    identifiers.push({ type: 'user_id', value });
    // A user id that is an address is that address too.
    if (value.includes('@')) identifiers.push({ type: 'email', value });
  };
  const addEmail = (traits: unknown) => {
    const email = (traits as { email?: unknown } | undefined)?.email;
    if (typeof email === 'string' && email !== '') identifiers.push({ type: 'email', value: email });
  };
  addUser(event.userId);
  addUser(event.previousId);
  addEmail(event.traits);
  addEmail(event.context?.traits);
  return identifiers;
}
