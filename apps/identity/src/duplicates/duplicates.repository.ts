import { Inject, Injectable } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';
import { IdentityGraphRepository } from '../resolution/identity-graph.repository.js';
import { type Person } from './person.js';

/** Phones and e-mail names a person keeps (the latest). */
const MAX_LISTED = 10;

export interface PersonDocument extends Person {
  /** The profile id. */
  _id: string;
  /** Every block the profile joined (absent: none). */
  blockingKeys?: string[];
  updatedAt: Date;
  schemaVersion: 1;
}

export interface BlockDocument {
  /** The blocking key. */
  _id: string;
  profileIds: string[];
}

/** `accepting`: an accept (an operator's or the auto-merge) is merging the pair. */
export type CandidateStatus = 'pending' | 'accepting' | 'merged' | 'rejected';

/** An `accepting` candidate older than this was left by a crash: an accept may take it over. */
export const ACCEPT_TAKEOVER_MS = 60_000;

export interface CandidateDocument {
  /** Deterministic from the pair: a pair is proposed once, and a rejected pair never again. */
  _id: string;
  profileIds: [string, string];
  score: number;
  evidence: { attributes: Record<string, number>; blockingKeys: string[] };
  decision: 'auto_merge' | 'review';
  status: CandidateStatus;
  mergeId?: string;
  /** Why an accepted candidate could not be merged (e.g. a limit). */
  refusal?: string;
  /** Set while `accepting`. */
  acceptingSince?: Date;
  createdAt: Date;
  decidedAt?: Date;
  schemaVersion: 1;
}

/** Fuzzy matching's state: what each profile looks like, the blocks, and the candidates. */
@Injectable()
export class DuplicatesRepository {
  readonly people: Collection<PersonDocument>;
  readonly blocks: Collection<BlockDocument>;
  readonly candidates: Collection<CandidateDocument>;

  constructor(
    @Inject(MONGO_DB) db: Db,
    private readonly graph: IdentityGraphRepository,
  ) {
    this.people = db.collection<PersonDocument>('people');
    this.blocks = db.collection<BlockDocument>('blocks');
    this.candidates = db.collection<CandidateDocument>('candidates');
  }

  person(profileId: string): Promise<PersonDocument | null> {
    return this.people.findOne({ _id: profileId });
  }

  /**
   * Adds a description to the profile's person in one command (what it names replaces what was there,
   * phones and e-mail names are added, the last MAX_LISTED of each kept) and returns the person.
   */
  async describe(profileId: string, described: Person): Promise<PersonDocument> {
    const { phones, emailNames, ...named } = described;
    const person = (await this.people.findOneAndUpdate(
      { _id: profileId },
      {
        $set: { ...named, updatedAt: new Date(), schemaVersion: 1 },
        $addToSet: { phones: { $each: phones }, emailNames: { $each: emailNames } },
      },
      { upsert: true, returnDocument: 'after' },
    ))!;
    // (A list is absent until something was added to it.)
    person.phones ??= [];
    person.emailNames ??= [];
    if (person.phones.length > MAX_LISTED || person.emailNames.length > MAX_LISTED) {
      person.phones = person.phones.slice(-MAX_LISTED);
      person.emailNames = person.emailNames.slice(-MAX_LISTED);
      await this.people.updateOne(
        { _id: profileId },
        { $set: { phones: person.phones, emailNames: person.emailNames } },
      );
    }
    return person;
  }

  /** Records the blocks the profile joins on its person before it joins them (erasure leaves them all). */
  async recordBlocks(profileId: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.people.updateOne({ _id: profileId }, { $addToSet: { blockingKeys: { $each: [...keys] } } });
  }

  /** Adds the profile to the block and returns the block's members. */
  async joinBlock(key: string, profileId: string): Promise<string[]> {
    const block = await this.blocks.findOneAndUpdate(
      { _id: key },
      { $addToSet: { profileIds: profileId } },
      { upsert: true, returnDocument: 'after' },
    );
    return block?.profileIds ?? [profileId];
  }

  /** Records a candidate unless the pair was proposed before; returns the stored one. */
  async propose(
    candidate: Omit<CandidateDocument, 'createdAt' | 'schemaVersion' | 'status'>,
  ): Promise<CandidateDocument> {
    await this.candidates.updateOne(
      { _id: candidate._id },
      { $setOnInsert: { ...candidate, status: 'pending', createdAt: new Date(), schemaVersion: 1 } },
      { upsert: true },
    );
    return (await this.candidates.findOne({ _id: candidate._id }))!;
  }

  /**
   * Moves a candidate to another status if `allowed` says so, as one step: read and write run under a
   * claim on the candidate (FerretDB may lose one of two concurrent conditional updates of a document).
   * Returns the candidate as it was (null: unknown) and whether it moved.
   */
  async transition(
    candidateId: string,
    allowed: (candidate: CandidateDocument) => boolean,
    set: Partial<Pick<CandidateDocument, 'status' | 'mergeId' | 'decidedAt' | 'acceptingSince' | 'refusal'>>,
  ): Promise<{ before: CandidateDocument | null; moved: boolean }> {
    return this.graph.withLocks([`candidate:${candidateId}`], async () => {
      const before = await this.candidates.findOne({ _id: candidateId });
      if (!before || !allowed(before)) return { before, moved: false };
      await this.candidates.updateOne(
        { _id: candidateId },
        { $set: set, ...(set.status === 'accepting' ? {} : { $unset: { acceptingSince: '' } }) },
      );
      return { before, moved: true };
    });
  }

  /** Claims a candidate for merging: from `pending`, or from an `accepting` a crash left behind. */
  beginAccept(candidateId: string): Promise<{ before: CandidateDocument | null; moved: boolean }> {
    const now = new Date();
    return this.transition(
      candidateId,
      (candidate) =>
        candidate.status === 'pending' ||
        (candidate.status === 'accepting' &&
          now.getTime() - (candidate.acceptingSince?.getTime() ?? 0) > ACCEPT_TAKEOVER_MS),
      { status: 'accepting', acceptingSince: now },
    );
  }

  /** Ends an accept: `merged`, or back to `pending` with the reason the merge was refused. */
  async endAccept(
    candidateId: string,
    outcome: { status: 'merged'; mergeId?: string } | { status: 'pending'; refusal: string },
  ): Promise<void> {
    const set =
      outcome.status === 'merged'
        ? {
            status: outcome.status,
            decidedAt: new Date(),
            ...(outcome.mergeId ? { mergeId: outcome.mergeId } : {}),
          }
        : outcome;
    await this.transition(candidateId, (candidate) => candidate.status === 'accepting', set);
  }

  /** Rejects a pending candidate; false when it was decided, or is being accepted. */
  async reject(candidateId: string): Promise<{ before: CandidateDocument | null; moved: boolean }> {
    return this.transition(candidateId, (candidate) => candidate.status === 'pending', {
      status: 'rejected',
      decidedAt: new Date(),
    });
  }

  /** Pending candidates, and those an accept left `accepting` (a crash) long enough ago to take over. */
  pending(limit: number): Promise<CandidateDocument[]> {
    const abandoned = new Date(Date.now() - ACCEPT_TAKEOVER_MS);
    return this.candidates
      .find({ $or: [{ status: 'pending' }, { status: 'accepting', acceptingSince: { $lt: abandoned } }] })
      .sort({ score: -1, _id: 1 })
      .limit(limit)
      .toArray();
  }

  /** Forgets erased profiles: their description, block memberships and candidates. */
  async erase(profileIds: readonly string[]): Promise<number> {
    const people = await this.people.find({ _id: { $in: [...profileIds] } }).toArray();
    for (const person of people) {
      for (const key of person.blockingKeys ?? []) {
        await this.blocks.updateOne({ _id: key }, { $pullAll: { profileIds: [...profileIds] } });
      }
    }
    await this.people.deleteMany({ _id: { $in: [...profileIds] } });
    const candidates = await this.candidates.deleteMany({ profileIds: { $in: [...profileIds] } });
    return people.length + candidates.deletedCount;
  }
}
