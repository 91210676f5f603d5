import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';
import { emptyState, type ProfileModel, type ProfileState } from './profile-model.js';
import { retryBusy } from '../shared/retry-busy.js';
import { decodeValue, encodeValue } from './stored-keys.js';

interface ProfileDocument {
  _id: string;
  /** Keys encoded (stored-keys.ts), as everywhere below where customers name things. */
  traits: Record<string, unknown>;
  traitTimes?: Record<string, string>;
  state?: Record<string, unknown>;
  computed: Record<string, unknown>;
  segments?: string[];
  version: number;
  /** Ids of the last messages applied, so a redelivered one is not applied twice. */
  applied: string[];
  /** What the last message changed, to announce it again when that message is redelivered. */
  lastChange?: LastChange;
  updatedAt: Date;
  schemaVersion: 1 | 2;
}

/** What one message changed: announced again, the same, when that message is redelivered. */
export interface LastChange {
  messageId: string;
  changed: string[];
  entered: string[];
  exited: string[];
}

export interface StoredProfile {
  model: ProfileModel;
  /** Whether this message id was applied already. */
  applied: (messageId: string) => boolean;
  lastChange?: LastChange;
}

// Redeliveries come within the ack wait, a few messages of the same profile later; every id kept
// makes each write bigger (FerretDB rewrites whole documents).
const APPLIED_KEPT = 32;
/** Profiles this replica wrote last, kept to skip the read before the next write of the same one. */
const REMEMBERED = 20_000;

interface Remembered {
  model: ProfileModel;
  applied: string[];
  lastChange?: LastChange;
}

@Injectable()
export class ProfilesRepository implements OnModuleInit {
  private readonly profiles: Collection<ProfileDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.profiles = db.collection<ProfileDocument>('profiles');
  }

  async onModuleInit(): Promise<void> {
    await this.profiles.createIndex({ segments: 1, _id: 1 }, { name: 'by_segment' });
  }

  /**
   * What this replica wrote last, by profile. Safe because every write is conditional on the version
   * read: if another replica wrote meanwhile, the write fails, the entry is dropped and the next read
   * goes to the database.
   */
  private readonly remembered = new Map<string, Remembered>();

  private remember(profileId: string, entry: Remembered): void {
    this.remembered.delete(profileId);
    this.remembered.set(profileId, entry);
    if (this.remembered.size > REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
  }

  private forget(profileIds: readonly string[]): void {
    for (const profileId of profileIds) this.remembered.delete(profileId);
  }

  async load(profileId: string): Promise<StoredProfile | undefined> {
    const known = this.remembered.get(profileId);
    if (known) {
      const applied = new Set(known.applied);
      return {
        model: structuredClone(known.model),
        applied: (messageId) => applied.has(messageId),
        ...(known.lastChange ? { lastChange: known.lastChange } : {}),
      };
    }
    const document = await retryBusy(() => this.profiles.findOne({ _id: profileId }));
    if (!document) return undefined;
    const applied = new Set(document.applied ?? []);
    const model = this.toModel(document);
    this.remember(profileId, {
      model: structuredClone(model),
      applied: document.applied ?? [],
      ...(document.lastChange ? { lastChange: document.lastChange } : {}),
    });
    return {
      model,
      applied: (messageId) => applied.has(messageId),
      ...(document.lastChange ? { lastChange: document.lastChange } : {}),
    };
  }

  /**
   * Writes a profile if nobody changed it since `expectedVersion` was read (0: it did not exist), and
   * records the message as applied. False when another writer came first: read again and retry.
   */
  async save(model: ProfileModel, expectedVersion: number, lastChange: LastChange): Promise<boolean> {
    const messageId = lastChange.messageId;
    const fields = {
      traits: encodeValue(model.traits) as Record<string, unknown>,
      traitTimes: encodeValue(model.traitTimes) as Record<string, string>,
      state: encodeValue(model.state) as Record<string, unknown>,
      computed: encodeValue(model.computed) as Record<string, unknown>,
      segments: model.segments,
      lastChange,
      updatedAt: new Date(),
      schemaVersion: 2 as const,
    };
    if (expectedVersion === 0) {
      try {
        await retryBusy(() =>
          this.profiles.insertOne({
            _id: model.profileId,
            ...fields,
            version: model.version,
            applied: [messageId],
          }),
        );
        this.remember(model.profileId, { model: structuredClone(model), applied: [messageId], lastChange });
        return true;
      } catch (error) {
        this.forget([model.profileId]);
        if (error instanceof MongoServerError && error.code === 11000) return false;
        throw error;
      }
    }
    const previous = this.remembered.get(model.profileId);
    this.forget([model.profileId]);
    const result = await retryBusy(() =>
      this.profiles.updateOne(
        { _id: model.profileId, version: expectedVersion },
        {
          $set: { ...fields, version: model.version },
          $push: { applied: { $each: [messageId], $slice: -APPLIED_KEPT } },
        },
      ),
    );
    if (result.modifiedCount !== 1) return false;
    if (previous && previous.model.version === expectedVersion) {
      const applied = [...previous.applied, messageId].slice(-APPLIED_KEPT);
      this.remember(model.profileId, { model: structuredClone(model), applied, lastChange });
    }
    return true;
  }

  /** Replaces a profile's segment list if its version is still the one read (back-fill). */
  async saveSegments(profileId: string, expectedVersion: number, segments: string[]): Promise<boolean> {
    this.forget([profileId]);
    const result = await this.profiles.updateOne(
      { _id: profileId, version: expectedVersion },
      { $set: { segments, updatedAt: new Date() }, $inc: { version: 1 } },
    );
    return result.modifiedCount === 1;
  }

  /** Profiles in id order after `after`, for back-fills and broadcasts. */
  async page(after: string | undefined, limit: number, segmentId?: string): Promise<ProfileModel[]> {
    const filter = {
      ...(after === undefined ? {} : { _id: { $gt: after } }),
      ...(segmentId === undefined ? {} : { segments: segmentId }),
    };
    const documents = await this.profiles.find(filter).sort({ _id: 1 }).limit(limit).toArray();
    return documents.map((document) => this.toModel(document));
  }

  async memberIds(segmentId: string, after: string | undefined, limit: number): Promise<string[]> {
    const filter = { segments: segmentId, ...(after === undefined ? {} : { _id: { $gt: after } }) };
    const documents = await this.profiles
      .find(filter, { projection: { _id: 1 } })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    return documents.map((document) => document._id);
  }

  countMembers(segmentId: string): Promise<number> {
    return this.profiles.countDocuments({ segments: segmentId });
  }

  /** Profiles whose email trait is one of these (erasure by identifier). */
  async idsWithEmail(emails: readonly string[]): Promise<string[]> {
    if (emails.length === 0) return [];
    const documents = await this.profiles
      .find({ 'traits.email': { $in: [...emails] } }, { projection: { _id: 1 } })
      .toArray();
    return documents.map((document) => document._id);
  }

  async remove(profileIds: readonly string[]): Promise<number> {
    if (profileIds.length === 0) return 0;
    this.forget(profileIds);
    const result = await this.profiles.deleteMany({ _id: { $in: [...profileIds] } });
    return result.deletedCount;
  }

  private toModel(document: ProfileDocument): ProfileModel {
    return {
      profileId: document._id,
      traits: decodeValue(document.traits ?? {}) as Record<string, unknown>,
      traitTimes: decodeValue(document.traitTimes ?? {}) as Record<string, string>,
      state: { ...emptyState(), ...(decodeValue(document.state ?? {}) as Partial<ProfileState>) },
      computed: decodeValue(document.computed ?? {}) as Record<string, unknown>,
      segments: document.segments ?? [],
      version: document.version,
    };
  }
}
