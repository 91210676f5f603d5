import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';
import { emptyState, type ProfileModel, type ProfileState } from './profile-model.js';
import { GroupCommit, type WriteOutcome } from './group-commit.js';
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
  /** What the last message changed (read by releases before `changes`). */
  lastChange?: LastChange;
  /**
   * What each of the last few messages changed, to announce it again when that message is
   * redelivered, even after other messages changed the profile since.
   */
  changes?: LastChange[];
  updatedAt: Date;
  /** The email trait, top-level so that erasure by email is an equality on an index. */
  email?: string;
  /** Whose write this is (GroupCommit). */
  writeId?: string;
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
  /** The ids of the last messages applied, oldest first. */
  appliedIds: string[];
  /** Whether this message id was applied already. */
  applied: (messageId: string) => boolean;
  /** What the last few messages changed, oldest first. */
  changes: LastChange[];
  /** What this message changed, if it is one of the last few applied. */
  changeOf: (messageId: string) => LastChange | undefined;
}

// Redeliveries come within the ack wait, a few messages of the same profile later.
const APPLIED_KEPT = 32;
/**
 * What the last few messages changed: a message whose write was reported lost (or failed) after it
 * landed is retried after others may have written, and finds what it changed here.
 */
const CHANGES_KEPT = 8;
/** Profiles this replica wrote last, kept to skip the read before the next write of the same one. */
const REMEMBERED = 20_000;

/** A journal entry of releases before this one (profile versions, folded into `profiles` at boot). */
type LegacyJournalEntry =
  | { _id: string; profileId: string; version: number; body: string; writtenAt: Date }
  | (Omit<ProfileDocument, '_id'> & { _id: string; profileId: string; writtenAt: Date });

const EMAIL_FIELD_MIGRATION = 'profiles.email';

interface Remembered {
  model: ProfileModel;
  applied: string[];
  changes: LastChange[];
}

/**
 * Profiles, one document each (`profiles`, keys encoded), with the ids of the last messages applied
 * and what the last one changed. A write is conditional on the version read (`version` is the
 * optimistic lock; a new profile is an insert, whose duplicate `_id` says someone came first), and
 * the writes of concurrent handlers go out together (GroupCommit): a message is acked only after its
 * write returned. A profile is read by `_id`, or not at all when this replica wrote it last.
 */
@Injectable()
export class ProfilesRepository implements OnModuleInit {
  private readonly logger = new Logger(ProfilesRepository.name);
  private readonly profiles: Collection<ProfileDocument>;
  private readonly commits: GroupCommit<ProfileDocument>;

  constructor(@Inject(MONGO_DB) private readonly db: Db) {
    this.profiles = db.collection<ProfileDocument>('profiles');
    this.commits = new GroupCommit(this.profiles);
  }

  async onModuleInit(): Promise<void> {
    await this.profiles.createIndex({ segments: 1, _id: 1 }, { name: 'by_segment' });
    await this.profiles.createIndex({ email: 1 }, { name: 'by_email', sparse: true });
    await this.foldJournal();
    await this.fillEmailField();
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

  /**
   * For a write: a profile this replica does not hold in memory is taken to be new, without reading
   * (most are, at the start of a stream). If it is not, inserting it fails on the duplicate key and
   * the writer reads.
   */
  loadForWrite(profileId: string): StoredProfile | undefined {
    const known = this.remembered.get(profileId);
    if (known) return this.stored(structuredClone(known.model), known.applied, known.changes);
    return undefined;
  }

  async load(profileId: string): Promise<StoredProfile | undefined> {
    const known = this.remembered.get(profileId);
    if (known) return this.stored(structuredClone(known.model), known.applied, known.changes);
    const document = await this.profiles.findOne({ _id: profileId });
    if (!document) return undefined;
    const model = this.toModel(document);
    const applied = document.applied ?? [];
    const changes = document.changes ?? (document.lastChange ? [document.lastChange] : []);
    this.remember(profileId, { model: structuredClone(model), applied, changes });
    return this.stored(model, applied, changes);
  }

  private stored(model: ProfileModel, appliedIds: string[], changes: LastChange[]): StoredProfile {
    const applied = new Set(appliedIds);
    return {
      model,
      appliedIds: [...appliedIds],
      applied: (messageId) => applied.has(messageId),
      changes: [...changes],
      changeOf: (messageId) => changes.findLast((change) => change.messageId === messageId),
    };
  }

  /**
   * Writes a profile's next version if nobody wrote it since `expectedVersion` was read (0: it did
   * not exist), recording the message as applied in the same document. False when another writer
   * came first: read again and retry. Resolves once the version is durable.
   */
  async save(
    model: ProfileModel,
    expectedVersion: number,
    lastChange: LastChange,
    appliedBefore: readonly string[] = this.remembered.get(model.profileId)?.applied ?? [],
    changesBefore: readonly LastChange[] = this.remembered.get(model.profileId)?.changes ?? [],
  ): Promise<boolean> {
    const applied = [...appliedBefore, lastChange.messageId].slice(-APPLIED_KEPT);
    const changes = [...changesBefore, lastChange].slice(-CHANGES_KEPT);
    return this.write(
      { ...model, version: expectedVersion + 1 },
      expectedVersion,
      applied,
      changes,
      lastChange.messageId,
    );
  }

  private async write(
    model: ProfileModel,
    expectedVersion: number,
    applied: string[],
    changes: LastChange[],
    messageId?: string,
  ): Promise<boolean> {
    const profileId = model.profileId;
    let outcome: WriteOutcome;
    try {
      const document = this.toDocument(model, applied, changes);
      outcome = await this.commits.write(document, expectedVersion, messageId);
    } catch (error) {
      this.forget([profileId]);
      throw error;
    }
    if (outcome !== 'written') {
      // Lost; or landed, with what is stored now another writer's (read it when next needed).
      this.forget([profileId]);
      return outcome === 'landed';
    }
    this.remember(profileId, { model: structuredClone(model), applied, changes });
    return true;
  }

  /** Replaces a profile's segment list if its version is still the one read (back-fill). */
  async saveSegments(profileId: string, expectedVersion: number, segments: string[]): Promise<boolean> {
    const stored = await this.load(profileId);
    if (!stored || stored.model.version !== expectedVersion) return false;
    const model = { ...stored.model, segments, version: expectedVersion + 1 };
    return this.write(model, expectedVersion, stored.appliedIds, stored.changes);
  }

  /** Profiles in id order after `after`, for back-fills and broadcasts (each row read once per job). */
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

  async countMembers(segmentId: string): Promise<number> {
    return this.profiles.countDocuments({ segments: segmentId });
  }

  /** Profiles whose email trait is one of these (erasure by identifier): an equality per address. */
  async idsWithEmail(emails: readonly string[]): Promise<string[]> {
    const found = await Promise.all(
      [...new Set(emails)].map((email) =>
        this.profiles.find({ email }, { projection: { _id: 1 } }).toArray(),
      ),
    );
    return [...new Set(found.flat().map((document) => document._id))];
  }

  async remove(profileIds: readonly string[]): Promise<number> {
    if (profileIds.length === 0) return 0;
    this.forget(profileIds);
    const removed = await Promise.all(
      profileIds.map((_id) => this.profiles.deleteOne({ _id }).then((result) => result.deletedCount)),
    );
    return removed.reduce((sum, count) => sum + count, 0);
  }

  /**
   * Once, at boot after an upgrade: releases before this one wrote profile versions to a journal and
   * copied them to `profiles` behind; what they had not copied yet is copied now, then the journal goes.
   */
  private async foldJournal(): Promise<void> {
    const found = await this.db.listCollections({ name: 'profile_journal' }, { nameOnly: true }).toArray();
    if (found.length === 0) return;
    const journal = this.db.collection<LegacyJournalEntry>('profile_journal');
    const newest = new Map<string, LegacyJournalEntry>();
    for await (const entry of journal.find({})) {
      const held = newest.get(entry.profileId);
      if (!held || held.version < entry.version) newest.set(entry.profileId, entry);
    }
    for (const entry of newest.values()) {
      const { _id, ...fields } = documentOfJournalEntry(entry);
      const result = await this.profiles.updateOne(
        { _id, version: { $lt: entry.version } },
        { $set: fields },
      );
      if (result.matchedCount > 0) continue;
      await this.profiles.insertOne({ _id, ...fields }).catch((error: unknown) => {
        // `profiles` has this version or a newer one already.
        if (!(error instanceof MongoServerError && error.code === 11000)) throw error;
      });
    }
    await journal.drop().catch(() => undefined);
    this.logger.log(`folded ${newest.size} profiles' journal versions into profiles`);
  }

  /**
   * Once per database: profiles written before `email` was a field of its own get it (erasure finds
   * them by it). A marker in `migrations` says it was done, so later boots read nothing.
   */
  private async fillEmailField(): Promise<void> {
    const migrations = this.db.collection<{ _id: string; at: Date }>('migrations');
    if (await migrations.findOne({ _id: EMAIL_FIELD_MIGRATION })) return;
    const cursor = this.profiles.find({ email: { $exists: false } }, { projection: { traits: 1 } });
    for await (const document of cursor) {
      const email = (decodeValue(document.traits ?? {}) as Record<string, unknown>).email;
      if (typeof email === 'string')
        await this.profiles.updateOne({ _id: document._id, email: { $exists: false } }, { $set: { email } });
    }
    await migrations.updateOne(
      { _id: EMAIL_FIELD_MIGRATION },
      { $set: { at: new Date() } },
      { upsert: true },
    );
  }

  private toDocument(model: ProfileModel, applied: string[], changes: LastChange[]): ProfileDocument {
    const email = model.traits.email;
    const lastChange = changes.at(-1);
    return {
      _id: model.profileId,
      traits: encodeValue(model.traits) as Record<string, unknown>,
      traitTimes: encodeValue(model.traitTimes) as Record<string, string>,
      state: encodeValue(model.state) as Record<string, unknown>,
      computed: encodeValue(model.computed) as Record<string, unknown>,
      segments: model.segments,
      version: model.version,
      applied,
      ...(lastChange ? { lastChange } : {}),
      changes,
      updatedAt: new Date(),
      ...(typeof email === 'string' ? { email } : {}),
      schemaVersion: 2,
    };
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

/** A legacy journal entry as a `profiles` document. */
function documentOfJournalEntry(entry: LegacyJournalEntry): ProfileDocument {
  if (!('body' in entry)) {
    const { _id: _entryId, profileId, writtenAt: _writtenAt, ...fields } = entry;
    return { ...fields, _id: profileId };
  }
  const body = JSON.parse(entry.body) as {
    traits: Record<string, unknown>;
    traitTimes: Record<string, string>;
    state: ProfileState;
    computed: Record<string, unknown>;
    segments: string[];
    applied: string[];
    lastChange?: LastChange;
  };
  const email = body.traits.email;
  return {
    _id: entry.profileId,
    traits: encodeValue(body.traits) as Record<string, unknown>,
    traitTimes: encodeValue(body.traitTimes) as Record<string, string>,
    state: encodeValue(body.state) as Record<string, unknown>,
    computed: encodeValue(body.computed) as Record<string, unknown>,
    segments: body.segments,
    version: entry.version,
    applied: body.applied,
    ...(body.lastChange ? { lastChange: body.lastChange } : {}),
    updatedAt: entry.writtenAt,
    ...(typeof email === 'string' ? { email } : {}),
    schemaVersion: 2,
  };
}
