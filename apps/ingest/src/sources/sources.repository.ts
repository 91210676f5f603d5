import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB, REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { type Collection, type Db, MongoServerError } from 'mongodb';
import { randomUUID } from 'node:crypto';
import { IngestEnv } from '../config.js';
import { type WebhookMapping } from '../webhooks/webhook-mapping.js';
import { hashWriteKey, type Source } from './source.js';

interface SourceDocument {
  _id: string;
  name: string;
  writeKeyHash: string;
  /** The key before the last rotation, valid until `previousWriteKeyValidUntil`. */
  previousWriteKeyHash?: string;
  previousWriteKeyValidUntil?: Date;
  /** AES-256-GCM sealed (SecretBox): the HMAC needs the plaintext back. */
  webhookSecretSealed?: string;
  previousWebhookSecretSealed?: string;
  previousWebhookSecretValidUntil?: Date;
  enabled: boolean;
  rateLimitPerSecond?: number;
  /** A built-in mapping's name, or a custom mapping (checked by webhookMappingProblems before it is stored). */
  webhookMapping?: string | WebhookMapping;
  createdAt: Date;
  updatedAt?: Date;
  schemaVersion: 1;
}

/** What the admin API shows of a source: never a key, never a secret. */
export interface SourceRecord extends Source {
  createdAt: string;
  updatedAt?: string;
  hasWebhookSecret: boolean;
  previousWriteKeyValidUntil?: string;
}

export interface WebhookSecrets {
  current?: string;
  /** The secret before the last rotation, while it is still accepted. */
  previous?: string;
}

export type SourceChanges = Partial<
  Pick<Source, 'name' | 'enabled' | 'rateLimitPerSecond' | 'webhookMapping'>
>;

export class SourceExistsError extends Error {}

const toSource = (document: SourceDocument): Source => ({
  id: document._id,
  name: document.name,
  enabled: document.enabled,
  ...(document.rateLimitPerSecond === undefined ? {} : { rateLimitPerSecond: document.rateLimitPerSecond }),
  ...(document.webhookMapping === undefined ? {} : { webhookMapping: document.webhookMapping }),
});

const toRecord = (document: SourceDocument): SourceRecord => ({
  ...toSource(document),
  createdAt: document.createdAt.toISOString(),
  ...(document.updatedAt ? { updatedAt: document.updatedAt.toISOString() } : {}),
  hasWebhookSecret: document.webhookSecretSealed !== undefined,
  ...(document.previousWriteKeyValidUntil && document.previousWriteKeyValidUntil > new Date()
    ? { previousWriteKeyValidUntil: document.previousWriteKeyValidUntil.toISOString() }
    : {}),
});

/** Write keys whose source is held in memory; past it the cache starts over. */
const MAX_CACHED_KEYS = 10_000;
/** Changed (to a new random value) by every change of any source, through any replica. */
const SOURCES_VERSION = '{sources}:version';
/** A source is read again after this however its version looks (a replica died between its change and the version). */
const MAX_CACHED_MS = 60_000;

interface CachedSource {
  source: Source;
  /** Until when it is used without asking anything. */
  until: number;
  /** Past it (the rotated-out key's grace, or MAX_CACHED_MS after the read), it is not used again. */
  graceEnds: number;
  /** SOURCES_VERSION when it was read. */
  version: string | null;
}

/**
 * Sources in MongoDB. The source of a write key is held in memory, so a tracking call costs no
 * database round trip: any change through this replica clears the cache at once; every change
 * also writes a new SOURCES_VERSION in Redis, which a cached source is checked against (one Redis
 * GET for all keys) once it is INGEST_SOURCE_CACHE_MS old, so other replicas see a change within
 * that time and an unchanged source is not read again. Unknown keys are not cached (a new source's
 * key works at once; bad keys are held back by the per-IP failure limit).
 */
@Injectable()
export class SourcesRepository implements OnModuleInit {
  private readonly sources: Collection<SourceDocument>;
  private readonly byWriteKey = new Map<string, CachedSource>();
  /** Reads under way, by write key: calls arriving together share one. */
  private readonly reading = new Map<string, Promise<Source | undefined>>();
  private checkingVersion?: Promise<string | null>;
  private generation = 0;

  constructor(
    @Inject(MONGO_DB) db: Db,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(IngestEnv) private readonly env: IngestEnv,
  ) {
    this.sources = db.collection<SourceDocument>('sources');
  }

  async onModuleInit(): Promise<void> {
    await this.sources.createIndex({ writeKeyHash: 1 }, { unique: true, name: 'write_key_unique' });
    await this.sources.createIndex({ previousWriteKeyHash: 1 }, { name: 'previous_write_key' });
  }

  /** The source of a write key: its current one, or the one before a rotation while its grace lasts. */
  async findByWriteKey(writeKey: string, at = Date.now()): Promise<Source | undefined> {
    // Held by the key as sent (the process sees it anyway), so a hit costs no hashing.
    const cached = this.byWriteKey.get(writeKey);
    if (cached && cached.until > at) return cached.source;
    if (cached && cached.graceEnds > at) {
      const generation = this.generation;
      const version = await this.currentVersion();
      if (version !== undefined && version === cached.version && generation === this.generation) {
        cached.until = Math.min(at + this.env.INGEST_SOURCE_CACHE_MS, cached.graceEnds);
        return cached.source;
      }
    }
    let read = this.reading.get(writeKey);
    if (!read) {
      read = this.read(writeKey, at).finally(() => this.reading.delete(writeKey));
      this.reading.set(writeKey, read);
    }
    return read;
  }

  private async read(writeKey: string, at: number): Promise<Source | undefined> {
    const now = new Date(at);
    const hash = hashWriteKey(writeKey);
    const generation = this.generation;
    // Read before the source: a change between the two leaves an older version, checked again later.
    const version = this.env.INGEST_SOURCE_CACHE_MS > 0 ? await this.currentVersion() : undefined;
    const document =
      (await this.sources.findOne({ writeKeyHash: hash })) ??
      (await this.sources.findOne({ previousWriteKeyHash: hash, previousWriteKeyValidUntil: { $gt: now } }));
    if (!document) return undefined;
    const source = toSource(document);
    if (version !== undefined && generation === this.generation) {
      if (this.byWriteKey.size >= MAX_CACHED_KEYS) this.byWriteKey.clear();
      const graceEnds = Math.min(
        at + Math.max(MAX_CACHED_MS, this.env.INGEST_SOURCE_CACHE_MS),
        document.writeKeyHash === hash ? Infinity : document.previousWriteKeyValidUntil!.getTime(),
      );
      this.byWriteKey.set(writeKey, {
        source,
        until: Math.min(now.getTime() + this.env.INGEST_SOURCE_CACHE_MS, graceEnds),
        graceEnds,
        version,
      });
    }
    return source;
  }

  /** SOURCES_VERSION (one GET shared by the calls asking together); undefined when Redis did not answer. */
  private async currentVersion(): Promise<string | null | undefined> {
    this.checkingVersion ??= this.redis
      .get(SOURCES_VERSION)
      .finally(() => (this.checkingVersion = undefined));
    try {
      return await this.checkingVersion;
    } catch {
      return undefined;
    }
  }

  /**
   * A change through this replica: the cache is cleared before and after it, a lookup that
   * overlapped it does not cache what it read (it may predate the change), and the other replicas'
   * caches are told by a new SOURCES_VERSION.
   */
  private async changing<T>(work: () => Promise<T>): Promise<T> {
    this.generation++;
    this.byWriteKey.clear();
    try {
      return await work();
    } finally {
      this.generation++;
      this.byWriteKey.clear();
      await this.redis.set(SOURCES_VERSION, randomUUID());
    }
  }

  /** Creates the source, or sets its name and write key if it exists. */
  async upsert(source: Source, writeKey: string): Promise<void> {
    return this.changing(async () => {
      await this.sources.updateOne(
        { _id: source.id },
        {
          $set: { name: source.name, enabled: source.enabled, writeKeyHash: hashWriteKey(writeKey) },
          $setOnInsert: { createdAt: new Date(), schemaVersion: 1 },
        },
        { upsert: true },
      );
    });
  }

  /** @throws SourceExistsError when the id is taken. */
  async create(source: Source, writeKeyHash: string, webhookSecretSealed: string): Promise<SourceRecord> {
    return this.changing(async () => {
      const document: SourceDocument = {
        _id: source.id,
        name: source.name,
        enabled: source.enabled,
        ...(source.rateLimitPerSecond === undefined ? {} : { rateLimitPerSecond: source.rateLimitPerSecond }),
        ...(source.webhookMapping === undefined ? {} : { webhookMapping: source.webhookMapping }),
        writeKeyHash,
        webhookSecretSealed,
        createdAt: new Date(),
        schemaVersion: 1,
      };
      try {
        await this.sources.insertOne(document);
      } catch (error) {
        if (error instanceof MongoServerError && error.code === 11000) throw new SourceExistsError(source.id);
        throw error;
      }
      return toRecord(document);
    });
  }

  async list(): Promise<SourceRecord[]> {
    const documents = await this.sources.find({}).sort({ _id: 1 }).limit(10_000).toArray();
    return documents.map(toRecord);
  }

  async get(id: string): Promise<SourceRecord | undefined> {
    const document = await this.sources.findOne({ _id: id });
    return document ? toRecord(document) : undefined;
  }

  async update(id: string, changes: SourceChanges): Promise<SourceRecord | undefined> {
    return this.changing(async () => {
      const document = await this.sources.findOneAndUpdate(
        { _id: id },
        { $set: { ...changes, updatedAt: new Date() } },
        { returnDocument: 'after' },
      );
      return document ? toRecord(document) : undefined;
    });
  }

  /** Replaces the write key; the old one stays valid until `graceUntil`. False when the source is unknown. */
  async rotateWriteKey(id: string, newHash: string, graceUntil: Date): Promise<boolean> {
    return this.changing(async () => {
      const current = await this.sources.findOne({ _id: id });
      if (!current) return false;
      // Conditional on the key read, so two concurrent rotations cannot both keep "their" old key.
      const result = await this.sources.updateOne(
        { _id: id, writeKeyHash: current.writeKeyHash },
        {
          $set: {
            writeKeyHash: newHash,
            previousWriteKeyHash: current.writeKeyHash,
            previousWriteKeyValidUntil: graceUntil,
            updatedAt: new Date(),
          },
        },
      );
      return result.matchedCount === 1 || this.rotateWriteKey(id, newHash, graceUntil);
    });
  }

  async webhookSecrets(id: string, now = new Date()): Promise<WebhookSecrets | undefined> {
    const document = await this.sources.findOne({ _id: id });
    if (!document) return undefined;
    const previousValid =
      document.previousWebhookSecretValidUntil !== undefined &&
      document.previousWebhookSecretValidUntil > now;
    return {
      ...(document.webhookSecretSealed ? { current: document.webhookSecretSealed } : {}),
      ...(previousValid && document.previousWebhookSecretSealed
        ? { previous: document.previousWebhookSecretSealed }
        : {}),
    };
  }

  /** Replaces the webhook secret (sealed); the old one stays valid until `graceUntil`. */
  async rotateWebhookSecret(id: string, sealed: string, graceUntil: Date): Promise<boolean> {
    return this.changing(async () => {
      const current = await this.sources.findOne({ _id: id });
      if (!current) return false;
      const result = await this.sources.updateOne(
        current.webhookSecretSealed
          ? { _id: id, webhookSecretSealed: current.webhookSecretSealed }
          : { _id: id, webhookSecretSealed: { $exists: false } },
        {
          $set: {
            webhookSecretSealed: sealed,
            ...(current.webhookSecretSealed
              ? {
                  previousWebhookSecretSealed: current.webhookSecretSealed,
                  previousWebhookSecretValidUntil: graceUntil,
                }
              : {}),
            updatedAt: new Date(),
          },
        },
      );
      return result.matchedCount === 1 || this.rotateWebhookSecret(id, sealed, graceUntil);
    });
  }
}
