import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { type IdentifierDto, type IdentifierType } from '@mesh/contracts';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';
import { IdentifierCache } from './identifier-cache.js';
import { ProfileClaims } from './profile-claims.js';
import { identifierKey } from './identifiers.js';

export interface IdentifierDocument {
  /** `<type>:<value>`: unique, so one identifier belongs to one profile. */
  _id: string;
  type: IdentifierType;
  value: string;
  name?: string;
  profileId: string;
  createdAt: Date;
  schemaVersion: 1;
}

export interface ProfileDocument {
  _id: string;
  /** Identifier keys (`type:value`). */
  identifiers: string[];
  firstSeen: Date;
  lastSeen: Date;
  /**
   * Incremented by every change of its identifiers or merge state (a sighting alone leaves it);
   * writes are conditional on the version read.
   */
  version: number;
  /** Set on a profile that was merged: the survivor it now lives in. */
  mergedInto?: string;
  mergeId?: string;
  /** On a survivor: merges into it that started and have not finished (found by _id, no query). */
  pendingMerges?: string[];
  /**
   * Set by an erasure before it deletes anything (the document itself goes last): from then on no
   * sighting through the cache matches the profile (see touchLive).
   */
  erasing?: true;
  schemaVersion: 1;
}

/** What the merge's message is derived from (the event that connected the profiles). */
export interface MergeCause {
  id: string;
  correlationId: string;
  source: string;
  occurredAt: string;
  receivedAt: string;
}

/** A fact about the graph as a whole (e.g. the e-mail rules its addresses are stored under). */
interface SettingDocument {
  _id: string;
  value: string;
  updatedAt: Date;
}

const EMAIL_RULES_MARKER = 'email-rules';

export interface MergeDocument {
  /** Deterministic: the same set of profiles merges under one id, however often it is attempted. */
  _id: string;
  survivorId: string;
  mergedIds: string[];
  reason: string;
  evidence: IdentifierDto[];
  cause: MergeCause;
  /** Set on a merge of a fuzzy duplicate: the candidate it came from. */
  candidateId?: string;
  /** `splitting`/`split`: an operator undid the merge (a split in progress resumes on the next request). */
  status: 'pending' | 'done' | 'splitting' | 'split';
  /** Set when the person was erased: the evidence (identifier values) is gone. */
  erased?: boolean;
  createdAt: Date;
  completedAt?: Date;
  splitAt?: Date;
  schemaVersion: 1;
}

export interface ConflictDocument {
  _id: string;
  eventId: string;
  /** The profile the event was attached to. */
  attachedTo: string;
  profileIds: string[];
  /** Identifier keys the event carried that were not stored because of the limit. */
  rejected: string[];
  limits: Partial<Record<IdentifierType, number>>;
  reason: string;
  createdAt: Date;
  schemaVersion: 1;
}

const unique = (values: readonly string[]) => [...new Set(values)];

/**
 * The identity graph in MongoDB (FerretDB): `identifiers` (unique per type and value, pointing to a
 * profile), `profiles`, `merges` (the audit log) and `conflicts`. FerretDB has no transactions, so a
 * change to a group of profiles runs under claims on their ids (ProfileClaims, in Redis), and profile
 * writes are conditional on the version read. Identifier lookups are cached in Redis
 * (IdentifierCache); the steps here that move identifiers to another profile delete their entries
 * first, under the same claims. Every query of the per-event path is by `_id`.
 */
@Injectable()
export class IdentityGraphRepository implements OnModuleInit {
  readonly identifiers: Collection<IdentifierDocument>;
  readonly profiles: Collection<ProfileDocument>;
  readonly merges: Collection<MergeDocument>;
  readonly conflicts: Collection<ConflictDocument>;
  private readonly settings: Collection<SettingDocument>;

  constructor(
    @Inject(MONGO_DB) db: Db,
    readonly cache: IdentifierCache,
    private readonly claims: ProfileClaims,
  ) {
    this.identifiers = db.collection<IdentifierDocument>('identifiers');
    this.profiles = db.collection<ProfileDocument>('profiles');
    this.merges = db.collection<MergeDocument>('merges');
    this.conflicts = db.collection<ConflictDocument>('conflicts');
    this.settings = db.collection<SettingDocument>('graph_settings');
  }

  async onModuleInit(): Promise<void> {
    await this.identifiers.createIndex({ profileId: 1 }, { name: 'by_profile' });
    await this.profiles.createIndex({ identifiers: 1 }, { name: 'by_identifier' });
    await this.merges.createIndex({ mergedIds: 1 }, { name: 'by_merged' });
    await this.merges.createIndex({ survivorId: 1 }, { name: 'by_survivor' });
  }

  /** Raw owners (not following merges) of the identifiers that are known, by identifier key. */
  async owners(keys: readonly string[]): Promise<Map<string, string>> {
    // One findOne by _id per key: FerretDB serves those from the primary key, not `$in` scans.
    const documents = await Promise.all(unique(keys).map((key) => this.identifiers.findOne({ _id: key })));
    return new Map(documents.flatMap((document) => (document ? [[document._id, document.profileId]] : [])));
  }

  async profilesById(ids: readonly string[]): Promise<Map<string, ProfileDocument>> {
    const documents = await Promise.all(unique(ids).map((id) => this.profiles.findOne({ _id: id })));
    return new Map(documents.flatMap((document) => (document ? [[document._id, document]] : [])));
  }

  /** Reads the profiles among `ids` that `documents` does not hold yet into it. */
  private async readInto(documents: Map<string, ProfileDocument>, ids: readonly string[]): Promise<void> {
    const read = await this.profilesById(ids.filter((id) => !documents.has(id)));
    for (const [id, document] of read) documents.set(id, document);
  }

  /**
   * The live profile each of these ids ends in, following `mergedInto`. The profiles read are added
   * to `documents`, and those already in it are not read again (one attempt reads a profile once).
   */
  async live(
    ids: readonly string[],
    documents = new Map<string, ProfileDocument>(),
  ): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    let pending = new Map(ids.map((id) => [id, id]));
    for (let hop = 0; hop < 16 && pending.size > 0; hop++) {
      await this.readInto(documents, [...pending.values()]);
      const next = new Map<string, string>();
      for (const [origin, current] of pending) {
        const into = documents.get(current)?.mergedInto;
        if (into) next.set(origin, into);
        else result.set(origin, current);
      }
      pending = next;
    }
    for (const [origin, current] of pending) result.set(origin, current);
    return result;
  }

  /**
   * Merges started but not finished that involve one of these profiles: the survivor lists its
   * pending merges, a merged profile names its merge. Only reads by _id (FerretDB pushes only
   * equality down to PostgreSQL: any other filter reads the whole collection).
   */
  async pendingMerges(
    profileIds: readonly string[],
    documents = new Map<string, ProfileDocument>(),
  ): Promise<MergeDocument[]> {
    await this.readInto(documents, profileIds);
    const mergeIds = new Set<string>();
    for (const profile of unique(profileIds).flatMap((id) => documents.get(id) ?? [])) {
      profile.pendingMerges?.forEach((id) => mergeIds.add(id));
      if (profile.mergedInto && profile.mergeId) mergeIds.add(profile.mergeId);
    }
    const merges = await Promise.all([...mergeIds].map((id) => this.merges.findOne({ _id: id })));
    return merges.filter((merge): merge is MergeDocument => merge?.status === 'pending');
  }

  /** Runs `work` holding the claims on these ids (see ProfileClaims). */
  withLocks<T>(ids: readonly string[], work: () => Promise<T>): Promise<T> {
    return this.claims.withClaims(ids, work);
  }

  /**
   * Gives each identifier to `profileId` unless it already has an owner (first writer wins), in one
   * command. Returns the keys this call gave (an identifier given before, even to `profileId`, is not
   * among them).
   */
  async claim(identifiers: readonly IdentifierDto[], profileId: string): Promise<Set<string>> {
    if (identifiers.length === 0) return new Set();
    const result = await this.identifiers.bulkWrite(
      identifiers.map((identifier) => ({
        updateOne: {
          filter: { _id: identifierKey(identifier) },
          update: {
            $setOnInsert: {
              type: identifier.type,
              value: identifier.value,
              ...(identifier.name ? { name: identifier.name } : {}),
              profileId,
              createdAt: new Date(),
              schemaVersion: 1 as const,
            },
          },
          upsert: true,
        },
      })),
      { ordered: false },
    );
    return new Set(Object.values(result.upsertedIds).map(String));
  }

  /** Takes back identifiers `claim` gave to `profileId` (the caller holds its claim), in one command. */
  async unclaim(keys: readonly string[], profileId: string): Promise<void> {
    if (keys.length === 0) return;
    await this.identifiers.bulkWrite(
      keys.map((key) => ({ deleteOne: { filter: { _id: key, profileId } } })),
      { ordered: false },
    );
  }

  /** Creates the profile if it does not exist yet (idempotent). */
  async ensureProfile(profileId: string, seenAt: Date): Promise<void> {
    await this.profiles.updateOne(
      { _id: profileId },
      {
        $setOnInsert: {
          identifiers: [],
          firstSeen: seenAt,
          lastSeen: seenAt,
          version: 0,
          schemaVersion: 1 as const,
        },
      },
      { upsert: true },
    );
  }

  /**
   * Adds identifier keys and a sighting to a profile; false when the profile changed since it was
   * read (only possible when a claim expired: the caller retries, and the keys it added are its own).
   * The filter is the _id alone, which FerretDB pushes down to PostgreSQL; the version is compared on
   * the document as it was.
   */
  async touchProfile(profile: ProfileDocument, keys: readonly string[], seenAt: Date): Promise<boolean> {
    const before = await this.profiles.findOneAndUpdate(
      { _id: profile._id },
      {
        $addToSet: { identifiers: { $each: [...keys] } },
        $min: { firstSeen: seenAt },
        $max: { lastSeen: seenAt },
        $inc: { version: 1 },
      },
      // (No projection: FerretDB's findAndModify does not implement one.)
      { returnDocument: 'before' },
    );
    return before?.version === profile.version;
  }

  /** A new profile holding these keys, in one upsert (a profile of that id left by a crash is joined). */
  async createProfile(profileId: string, keys: readonly string[], seenAt: Date): Promise<void> {
    await this.profiles.updateOne(
      { _id: profileId },
      {
        $addToSet: { identifiers: { $each: [...keys] } },
        $min: { firstSeen: seenAt },
        $max: { lastSeen: seenAt },
        $inc: { version: 1 },
        $setOnInsert: { schemaVersion: 1 as const },
      },
      { upsert: true },
    );
  }

  /**
   * A sighting of a profile found through the cache, in one command and without a claim: it only moves
   * firstSeen/lastSeen (commutative, and not a version change). Returns the profile after the update,
   * so the caller verifies the cache entry against it (live: no `mergedInto`, and listing the keys):
   * null when it is gone or being erased. Whoever takes identifiers from a profile marks its document
   * (`erasing`, `mergedInto`) before deleting their cache entries, so a sighting that matches came
   * before the mark, i.e. before the erasure or merge changed anything. The filter keeps an equality on
   * _id (FerretDB narrows by it; the `$ne` is evaluated on that one row).
   */
  async touchLive(profileId: string, seenAt: Date): Promise<ProfileDocument | null> {
    return this.profiles.findOneAndUpdate(
      { _id: profileId, erasing: { $ne: true } },
      { $min: { firstSeen: seenAt }, $max: { lastSeen: seenAt } },
      { returnDocument: 'after' },
    );
  }

  /** Starts a merge: the audit entry is its first, idempotent step (a second start returns the first). */
  async startMerge(
    merge: Omit<MergeDocument, 'status' | 'createdAt' | 'schemaVersion'>,
  ): Promise<MergeDocument> {
    await this.merges.updateOne(
      { _id: merge._id },
      { $setOnInsert: { ...merge, status: 'pending', createdAt: new Date(), schemaVersion: 1 } },
      { upsert: true },
    );
    const stored = (await this.merges.findOne({ _id: merge._id }))!;
    if (stored.status === 'pending') {
      await this.profiles.updateOne({ _id: stored.survivorId }, { $addToSet: { pendingMerges: stored._id } });
    }
    return stored;
  }

  /**
   * The merge's data steps, each idempotent: merged profiles point to the survivor, their
   * identifiers are re-pointed, and the survivor holds all identifiers and sightings.
   */
  async applyMerge(merge: MergeDocument): Promise<void> {
    const merged = await this.profilesById(merge.mergedIds);
    const survivorKeys = new Set<string>();
    let firstSeen: Date | undefined;
    let lastSeen: Date | undefined;
    for (const profile of merged.values()) {
      profile.identifiers.forEach((key) => survivorKeys.add(key));
      if (!firstSeen || profile.firstSeen < firstSeen) firstSeen = profile.firstSeen;
      if (!lastSeen || profile.lastSeen > lastSeen) lastSeen = profile.lastSeen;
    }
    // The merged profiles are marked first: a sighting through an entry read before it is deleted
    // (touchLive, without a claim) then sees `mergedInto` and reads MongoDB, which waits for this merge.
    for (const id of merge.mergedIds) {
      await this.profiles.updateOne(
        { _id: id },
        { $set: { mergedInto: merge.survivorId, mergeId: merge._id }, $inc: { version: 1 } },
      );
    }
    // Then, before any identifier moves: no cache entry may still send them to the merged profiles.
    await this.cache.forget([...merged.values()].flatMap((profile) => profile.identifiers));
    await this.profiles.updateOne(
      { _id: merge.survivorId },
      {
        $addToSet: { identifiers: { $each: [...survivorKeys] } },
        ...(firstSeen ? { $min: { firstSeen } } : {}),
        ...(lastSeen ? { $max: { lastSeen } } : {}),
        $inc: { version: 1 },
      },
    );
    // Re-pointed by _id from the merged profiles' lists (an identifier a crash left off a list
    // still resolves through `mergedInto`).
    const moves = [...survivorKeys].map((key) => ({
      updateOne: {
        filter: { _id: key },
        update: { $set: { profileId: merge.survivorId } },
      },
    }));
    if (moves.length > 0) await this.identifiers.bulkWrite(moves, { ordered: false });
  }

  /** The stored e-mail identifiers, one at a time (a scan: for the e-mail rules' one-off rewrite). */
  emailIdentifiers(): AsyncIterable<IdentifierDocument> {
    return this.identifiers.find({ type: 'email' });
  }

  /**
   * Lists `identifier` on a live profile in place of `oldKey` (an address stored before the e-mail
   * rules that now normalize it) and removes the old identifier: claimed unless owned (the caller made
   * sure any owner's profile is this one), the profile's list rewritten, the old key forgotten. The
   * caller holds the profile's claim; each step may run again with one effect.
   */
  async rekey(profile: ProfileDocument, oldKey: string, identifier: IdentifierDto): Promise<void> {
    const newKey = identifierKey(identifier);
    await this.claim([identifier], profile._id);
    const identifiers = unique([...profile.identifiers.filter((key) => key !== oldKey), newKey]);
    await this.profiles.updateOne({ _id: profile._id }, { $set: { identifiers }, $inc: { version: 1 } });
    await this.cache.forget([oldKey]);
    await this.identifiers.deleteOne({ _id: oldKey });
  }

  /**
   * The first step of an erasure (the caller holds the profiles' claims): each profile is marked
   * `erasing`, one by _id, before its cache entries are deleted, so from here on no sighting through
   * the cache (touchLive) matches it, whatever entry it read.
   */
  async markErasing(profileIds: readonly string[]): Promise<void> {
    for (const id of unique(profileIds)) {
      await this.profiles.updateOne({ _id: id }, { $set: { erasing: true }, $inc: { version: 1 } });
    }
  }

  /** The e-mail rules the stored addresses were last rewritten under (undefined: never). */
  async emailRulesApplied(): Promise<string | undefined> {
    const marker = await this.settings.findOne({ _id: EMAIL_RULES_MARKER });
    return marker?.value;
  }

  async markEmailRulesApplied(rules: string): Promise<void> {
    await this.settings.updateOne(
      { _id: EMAIL_RULES_MARKER },
      { $set: { value: rules, updatedAt: new Date() } },
      { upsert: true },
    );
  }

  async finishMerge(merge: MergeDocument): Promise<void> {
    await this.merges.updateOne({ _id: merge._id }, { $set: { status: 'done', completedAt: new Date() } });
    await this.profiles.updateOne({ _id: merge.survivorId }, { $pullAll: { pendingMerges: [merge._id] } });
  }

  /** Moves a merge to `next` only from `from`; false when its status was another. */
  async transitionMerge(
    mergeId: string,
    from: MergeDocument['status'],
    next: MergeDocument['status'],
  ): Promise<boolean> {
    const result = await this.merges.updateOne(
      { _id: mergeId, status: from },
      { $set: { status: next, ...(next === 'split' ? { splitAt: new Date() } : {}) } },
    );
    return result.matchedCount === 1;
  }

  /**
   * Undoes a merge's data steps, each idempotent: the merged profiles are live again, the
   * identifiers they brought point back to them (unless they moved elsewhere since), and the
   * survivor no longer lists them. Callers hold the claims on the survivor and the merged profiles.
   */
  async applySplit(merge: MergeDocument): Promise<void> {
    const merged = await this.profilesById(merge.mergedIds);
    const returned = new Set([...merged.values()].flatMap((profile) => profile.identifiers));
    // The survivor stops listing the returning identifiers first: a sighting through an entry read
    // before it is deleted (touchLive, without a claim) then fails its check and reads MongoDB, which
    // waits for this split. (An event under the survivor's claim after a crash here lists one again;
    // the resumed split takes it off again.)
    await this.profiles.updateOne(
      { _id: merge.survivorId },
      { $pullAll: { identifiers: [...returned] }, $inc: { version: 1 } },
    );
    // Before anything moves: the returning identifiers' entries name the survivor.
    await this.cache.forget(returned);
    await this.profiles.updateMany(
      { _id: { $in: merge.mergedIds }, mergeId: merge._id },
      { $unset: { mergedInto: '', mergeId: '' }, $inc: { version: 1 } },
    );
    const moves = [...merged.values()].flatMap((profile) =>
      profile.identifiers.map((key) => ({
        updateOne: {
          filter: { _id: key, profileId: merge.survivorId },
          update: { $set: { profileId: profile._id } },
        },
      })),
    );
    if (moves.length > 0) await this.identifiers.bulkWrite(moves, { ordered: false });
  }

  async recordConflict(conflict: Omit<ConflictDocument, 'createdAt' | 'schemaVersion'>): Promise<void> {
    await this.conflicts.updateOne(
      { _id: conflict._id },
      { $setOnInsert: { ...conflict, createdAt: new Date(), schemaVersion: 1 } },
      { upsert: true },
    );
  }
}
