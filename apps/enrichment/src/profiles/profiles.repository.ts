import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';
import { emptyState, type ProfileModel, type ProfileState } from './profile-model.js';
import { retryBusy } from '../shared/retry-busy.js';
import { GroupCommit, type InsertOutcome, WriteLane } from './group-commit.js';
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
  /** The ids of the last messages applied, oldest first. */
  appliedIds: string[];
  /** Whether this message id was applied already. */
  applied: (messageId: string) => boolean;
  lastChange?: LastChange;
}

// Redeliveries come within the ack wait, a few messages of the same profile later.
const APPLIED_KEPT = 32;
/** Profiles this replica wrote last, kept to skip the read before the next write of the same one. */
const REMEMBERED = 20_000;
/** Profiles copied to the `profiles` view per pass of the checkpointer. */
const CHECKPOINT_BATCH = 50;
const CHECKPOINT_IDLE_MS = 20;
/** Journal ids deleted per statement when a profile is removed. */
const REMOVE_CHUNK = 1_000;
/** Journal inserts this recent mean events are flowing: the checkpointer takes less of the database. */
const BUSY_MS = 1_000;
/**
 * A journal entry is deleted only this long after the view moved past it. A reader or writer never
 * takes this long between reading the view and probing or inserting a version, so it always finds
 * the versions after the view it read, and a version number is never written twice.
 */
const JOURNAL_KEEP_MS = 10 * 60_000;

/** Journal entry id: the version first (digits, no `:`), so ids of different profiles never clash. */
const journalId = (profileId: string, version: number) => `v${version}:${profileId}`;

/**
 * One version of one profile, the durable record of the messages that made it. The profile is one
 * JSON string (`body`): FerretDB inserts a string 3–5 times faster than the same data as nested
 * fields (measured: 0.07–0.13 against 0.32–0.38 ms a document of 1.2 KB), and a string needs no key
 * encoding. Only the fields queried are fields: `profileId`, `version` and `email` (erasure by email).
 */
interface JournalDocument {
  _id: string;
  profileId: string;
  version: number;
  email?: string;
  /** JSON of JournalBody. */
  body: string;
  writtenAt: Date;
  schemaVersion: 3;
}

/** What a journal entry's body holds: a profile version with its keys as customers sent them. */
interface JournalBody {
  traits: Record<string, unknown>;
  traitTimes: Record<string, string>;
  state: ProfileState;
  computed: Record<string, unknown>;
  segments: string[];
  applied: string[];
  lastChange?: LastChange;
}

/** Entries written before the body (schema 2) hold the profile's fields, keys encoded. */
type StoredJournalDocument =
  JournalDocument | (Omit<ProfileDocument, '_id'> & { _id: string; profileId: string; writtenAt: Date });

/** A journal entry as the `profiles` view stores it (keys encoded). */
function viewDocumentOf(entry: StoredJournalDocument): ProfileDocument {
  if (!('body' in entry)) {
    const { _id: _entryId, profileId, writtenAt: _writtenAt, ...fields } = entry;
    return { ...fields, _id: profileId };
  }
  const body = JSON.parse(entry.body) as JournalBody;
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
    schemaVersion: 2,
  };
}

interface Remembered {
  model: ProfileModel;
  applied: string[];
  lastChange?: LastChange;
}

/**
 * Profiles, written as an append-only journal of versions and read back from there.
 *
 * FerretDB (SQLite) updates a document in time proportional to the collection's size, but inserts a
 * batch of documents in one short transaction. So a change is saved by inserting the profile's next
 * version, `v<version>:<profileId>`, into `profile_journal`: the unique `_id` is the optimistic lock
 * (a second writer of the same version gets a duplicate key, reads again and retries), and the
 * message id is recorded in the same document. Inserts of concurrent handlers go out together
 * (`GroupCommit`), and a handler's message is acked only after its insert returned.
 *
 * The `profiles` collection is a view written behind by a checkpointer (newest version per profile,
 * coalescing every version written meanwhile); queries over many profiles (segment counts and
 * members, back-fills, broadcasts) read it and lag the journal by the checkpointer's delay. A single
 * profile is read from the view and then from the journal versions after it, so it is always current.
 */
@Injectable()
export class ProfilesRepository implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ProfilesRepository.name);
  private readonly profiles: Collection<ProfileDocument>;
  private readonly journal: Collection<StoredJournalDocument>;
  private readonly lane = new WriteLane();
  private readonly commits: GroupCommit<StoredJournalDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.profiles = db.collection<ProfileDocument>('profiles');
    this.journal = db.collection<StoredJournalDocument>('profile_journal');
    this.commits = new GroupCommit(this.journal, this.lane);
  }

  async onModuleInit(): Promise<void> {
    await this.profiles.createIndex({ segments: 1, _id: 1 }, { name: 'by_segment' });
    // Dropped (releases before this one made it): every journal insert updated it, nothing needs it.
    await this.journal.dropIndex('by_profile').catch(() => undefined);
    await this.recover();
    this.running = this.checkpointLoop();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /**
   * What this replica wrote last, by profile. Safe because every write is conditional on the version
   * read: if another replica wrote meanwhile, the write fails, the entry is dropped and the next read
   * goes to the database.
   */
  private readonly remembered = new Map<string, Remembered>();
  /** Newest journal entry per profile not yet copied to the view, oldest first. */
  private readonly dirty = new Map<string, StoredJournalDocument>();
  /** Journal versions this replica wrote per profile since its last checkpoint. */
  private readonly written = new Map<string, number[]>();
  /** Journal ids to delete, with the time from which they may go. */
  private readonly deletions: Array<{ ids: string[]; due: number }> = [];
  /** Profiles erased or merged away, and when: their older entries are not copied to the view. */
  private readonly erased = new Map<string, number>();
  /** Profiles the checkpointer is copying right now. */
  private readonly copying = new Set<string>();
  private running: Promise<void> = Promise.resolve();
  private stopping = false;

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
   * (most are, at the start of a stream). If it is not, inserting its version 1 fails on the duplicate
   * key — version 1 stays in the journal for as long as the profile exists — and the writer reads.
   */
  loadForWrite(profileId: string): StoredProfile | undefined {
    const known = this.remembered.get(profileId);
    if (known) return this.stored(structuredClone(known.model), known.applied, known.lastChange);
    return undefined;
  }

  async load(profileId: string): Promise<StoredProfile | undefined> {
    const known = this.remembered.get(profileId);
    if (known) return this.stored(structuredClone(known.model), known.applied, known.lastChange);
    const document = (await this.latest(profileId))?.document;
    if (!document) return undefined;
    const model = this.toModel(document);
    const applied = document.applied ?? [];
    this.remember(profileId, {
      model: structuredClone(model),
      applied,
      ...(document.lastChange ? { lastChange: document.lastChange } : {}),
    });
    return this.stored(model, applied, document.lastChange);
  }

  private stored(model: ProfileModel, appliedIds: string[], lastChange?: LastChange): StoredProfile {
    const applied = new Set(appliedIds);
    return {
      model,
      appliedIds: [...appliedIds],
      applied: (messageId) => applied.has(messageId),
      ...(lastChange ? { lastChange } : {}),
    };
  }

  /**
   * The newest version of a profile: the view's, or the journal's versions after it. Journal entries
   * are deleted only JOURNAL_KEEP_MS after the view moved past them, so a version after the one the
   * view showed at the start of this read is still in the journal when this read probes for it.
   */
  private async latest(
    profileId: string,
  ): Promise<{ document: ProfileDocument; entry?: StoredJournalDocument } | undefined> {
    const view = await retryBusy(() => this.profiles.findOne({ _id: profileId }));
    let newest: { document: ProfileDocument; entry?: StoredJournalDocument } | undefined = view
      ? { document: view }
      : undefined;
    let version = view?.version ?? 0;
    for (;;) {
      const entry = await retryBusy(() => this.journal.findOne({ _id: journalId(profileId, version + 1) }));
      if (!entry) return newest;
      newest = { document: viewDocumentOf(entry), entry };
      version = entry.version;
    }
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
  ): Promise<boolean> {
    const applied = [...appliedBefore, lastChange.messageId].slice(-APPLIED_KEPT);
    return this.append({ ...model, version: expectedVersion + 1 }, applied, lastChange);
  }

  private async append(model: ProfileModel, applied: string[], lastChange?: LastChange): Promise<boolean> {
    const profileId = model.profileId;
    const body: JournalBody = {
      traits: model.traits,
      traitTimes: model.traitTimes,
      state: model.state,
      computed: model.computed,
      segments: model.segments,
      applied,
      ...(lastChange ? { lastChange } : {}),
    };
    const email = model.traits.email;
    const entry: JournalDocument = {
      _id: journalId(profileId, model.version),
      profileId,
      version: model.version,
      ...(typeof email === 'string' ? { email } : {}),
      body: JSON.stringify(body),
      writtenAt: new Date(),
      schemaVersion: 3,
    };
    let outcome: InsertOutcome;
    try {
      outcome = await this.commits.insert(entry);
    } catch (error) {
      this.forget([profileId]);
      throw error;
    }
    if (outcome === 'duplicate') {
      this.forget([profileId]);
      return false;
    }
    this.remember(profileId, {
      model: structuredClone(model),
      applied,
      ...(lastChange ? { lastChange } : {}),
    });
    this.dirty.delete(profileId);
    this.dirty.set(profileId, entry);
    this.written.set(profileId, [...(this.written.get(profileId) ?? []), model.version]);
    return true;
  }

  /** Replaces a profile's segment list if its version is still the one read (back-fill). */
  async saveSegments(profileId: string, expectedVersion: number, segments: string[]): Promise<boolean> {
    const stored = await this.load(profileId);
    if (!stored || stored.model.version !== expectedVersion) return false;
    const model = { ...stored.model, segments, version: expectedVersion + 1 };
    return this.append(model, stored.appliedIds, stored.lastChange);
  }

  /** Copies the newest journal versions to the `profiles` view until stopped, then once more. */
  private async checkpointLoop(): Promise<void> {
    while (!this.stopping) {
      try {
        const copied = await this.checkpoint();
        await this.deleteDue(Date.now());
        if (copied === 0) await new Promise((resolve) => setTimeout(resolve, CHECKPOINT_IDLE_MS));
      } catch (error) {
        this.logger.warn(`checkpoint failed, retrying: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    // What is left stays in the journal; the next boot copies it (recover).
  }

  /** Copies up to a batch of profiles' newest versions to the view; how many it copied. */
  private async checkpoint(): Promise<number> {
    const batch = [...this.dirty.values()].slice(0, CHECKPOINT_BATCH);
    for (const entry of batch) {
      if (this.dirty.get(entry.profileId) === entry) this.dirty.delete(entry.profileId);
      this.copying.add(entry.profileId);
      try {
        // Acked messages wait on journal inserts: those go first, the view catches up when they pause.
        while (this.commits.busy && !this.stopping) await new Promise((resolve) => setTimeout(resolve, 2));
        const started = Date.now();
        await this.lane.run(() => this.copyToView(entry));
        // At most half of the database's time when events pause, a fifth while they flow (the view
        // lags then; queries over many profiles wait for it, at most 10 s): reads of profiles not in
        // memory wait behind it too, and the journal inserts of acked messages come first.
        const share = Date.now() - this.commits.lastWriteAt < BUSY_MS ? 4 : 1;
        await new Promise((resolve) => setTimeout(resolve, (Date.now() - started) * share));
      } catch (error) {
        if (!this.dirty.has(entry.profileId)) this.dirty.set(entry.profileId, entry);
        throw error;
      } finally {
        this.copying.delete(entry.profileId);
      }
    }
    return batch.length;
  }

  private async copyToView(entry: StoredJournalDocument): Promise<void> {
    const erasedAt = this.erased.get(entry.profileId);
    if (erasedAt !== undefined && entry.writtenAt.getTime() <= erasedAt) return;
    const { _id: profileId, ...fields } = viewDocumentOf(entry);
    const result = await retryBusy(() =>
      this.profiles.updateOne({ _id: profileId, version: { $lt: entry.version } }, { $set: fields }),
    );
    if (result.matchedCount === 0) {
      try {
        await retryBusy(() => this.profiles.insertOne({ _id: profileId, ...fields }));
      } catch (error) {
        // The view has this version or a newer one already.
        if (!(error instanceof MongoServerError && error.code === 11000)) throw error;
      }
    }
    const versions = this.written.get(profileId) ?? [];
    // Version 1 stays: its key tells a writer that takes an unknown profile for new that it is not.
    const older = versions.filter((version) => version > 1 && version < entry.version);
    const kept = versions.filter((version) => version >= entry.version);
    if (kept.length > 0) this.written.set(profileId, kept);
    else this.written.delete(profileId);
    if (older.length > 0)
      this.deletions.push({
        ids: older.map((version) => journalId(profileId, version)),
        due: Date.now() + JOURNAL_KEEP_MS,
      });
  }

  /**
   * Forgets erasures older than JOURNAL_KEEP_MS: a write that started before an erasure lands within
   * seconds, so a tombstone older than that no longer stops anything. Returns how many are kept.
   */
  pruneTombstones(now: number): number {
    for (const [profileId, erasedAt] of this.erased) {
      if (now - erasedAt > JOURNAL_KEEP_MS) this.erased.delete(profileId);
    }
    return this.erased.size;
  }

  private async deleteDue(now: number): Promise<void> {
    this.pruneTombstones(now);
    const ids: string[] = [];
    while (this.deletions.length > 0 && this.deletions[0]!.due <= now && ids.length < 500)
      ids.push(...this.deletions.shift()!.ids);
    if (ids.length > 0)
      await this.lane.run(() => retryBusy(() => this.journal.deleteMany({ _id: { $in: ids } })));
  }

  /**
   * At boot: profiles whose journal is ahead of the view (a replica stopped before copying them) are
   * copied, and journal versions the view has passed are deleted later.
   */
  private async recover(): Promise<void> {
    const newest = new Map<string, number[]>();
    const cursor = this.journal.find({}, { projection: { profileId: 1, version: 1 } });
    for await (const entry of cursor) {
      newest.set(entry.profileId, [...(newest.get(entry.profileId) ?? []), entry.version]);
    }
    for (const [profileId, all] of newest) {
      const latest = await this.latest(profileId);
      const versions = all.filter((version) => version > 1);
      if (!latest?.entry) {
        if (latest)
          this.deletions.push({
            ids: versions.map((v) => journalId(profileId, v)),
            due: Date.now() + JOURNAL_KEEP_MS,
          });
        continue;
      }
      this.dirty.set(profileId, latest.entry);
      this.written.set(profileId, versions);
    }
    if (newest.size > 0) this.logger.log(`${newest.size} profiles' journal versions to copy or delete`);
  }

  /**
   * Waits until the profiles this replica changed so far are in the view (bounded: under a backlog the
   * answer may lag), so a query over many profiles sees what was acked before it.
   */
  async caughtUp(timeoutMs = 10_000): Promise<void> {
    const pending = new Set([...this.dirty.keys(), ...this.copying]);
    const deadline = Date.now() + timeoutMs;
    const isPending = (profileId: string) => this.dirty.has(profileId) || this.copying.has(profileId);
    while ([...pending].some(isPending) && Date.now() < deadline && !this.stopping) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Profiles in id order after `after`, for back-fills and broadcasts. */
  async page(after: string | undefined, limit: number, segmentId?: string): Promise<ProfileModel[]> {
    await this.caughtUp();
    const filter = {
      ...(after === undefined ? {} : { _id: { $gt: after } }),
      ...(segmentId === undefined ? {} : { segments: segmentId }),
    };
    const documents = await this.profiles.find(filter).sort({ _id: 1 }).limit(limit).toArray();
    return documents.map((document) => this.toModel(document));
  }

  async memberIds(segmentId: string, after: string | undefined, limit: number): Promise<string[]> {
    await this.caughtUp();
    const filter = { segments: segmentId, ...(after === undefined ? {} : { _id: { $gt: after } }) };
    const documents = await this.profiles
      .find(filter, { projection: { _id: 1 } })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    return documents.map((document) => document._id);
  }

  async countMembers(segmentId: string): Promise<number> {
    await this.caughtUp();
    return this.profiles.countDocuments({ segments: segmentId });
  }

  /** Profiles whose email trait is one of these (erasure by identifier). */
  async idsWithEmail(emails: readonly string[]): Promise<string[]> {
    if (emails.length === 0) return [];
    // The view, and the journal for profiles the checkpointer has not copied yet.
    const filter = { 'traits.email': { $in: [...emails] } };
    const [documents, entries] = await Promise.all([
      this.profiles.find(filter, { projection: { _id: 1 } }).toArray(),
      this.journal
        .find({ $or: [{ email: { $in: [...emails] } }, filter] }, { projection: { profileId: 1 } })
        .toArray(),
    ]);
    return [...new Set([...documents.map((d) => d._id), ...entries.map((e) => e.profileId)])];
  }

  async remove(profileIds: readonly string[]): Promise<number> {
    if (profileIds.length === 0) return 0;
    this.forget(profileIds);
    const now = Date.now();
    for (const profileId of profileIds) {
      this.erased.set(profileId, now);
      this.dirty.delete(profileId);
      this.written.delete(profileId);
    }
    const ids = [...profileIds];
    // The journal has no index by profile (it would slow every insert by a third): its entries are
    // found by their ids, versions 1 to the newest.
    const newest = await Promise.all(ids.map(async (id) => (await this.latest(id))?.document.version ?? 0));
    const entryIds = ids.flatMap((id, index) =>
      Array.from({ length: newest[index]! }, (_, version) => journalId(id, version + 1)),
    );
    const inView = await this.profiles.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray();
    const inJournal: string[] = [];
    for (let start = 0; start < entryIds.length; start += REMOVE_CHUNK) {
      const chunk = entryIds.slice(start, start + REMOVE_CHUNK);
      const found = await this.journal
        .find({ _id: { $in: chunk } }, { projection: { profileId: 1 } })
        .toArray();
      inJournal.push(...found.map((entry) => entry.profileId));
      await retryBusy(() => this.journal.deleteMany({ _id: { $in: chunk } }));
    }
    await retryBusy(() => this.profiles.deleteMany({ _id: { $in: ids } }));
    return new Set([...inView.map((d) => d._id), ...inJournal]).size;
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
