import { Inject, Injectable } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';
import { type Person } from './person.js';

export interface PersonDocument extends Person {
  /** The profile id. */
  _id: string;
  blockingKeys: string[];
  updatedAt: Date;
  schemaVersion: 1;
}

export interface BlockDocument {
  /** The blocking key. */
  _id: string;
  profileIds: string[];
}

export type CandidateStatus = 'pending' | 'merged' | 'rejected';

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

  constructor(@Inject(MONGO_DB) db: Db) {
    this.people = db.collection<PersonDocument>('people');
    this.blocks = db.collection<BlockDocument>('blocks');
    this.candidates = db.collection<CandidateDocument>('candidates');
  }

  person(profileId: string): Promise<PersonDocument | null> {
    return this.people.findOne({ _id: profileId });
  }

  async savePerson(profileId: string, person: Person, keys: string[]): Promise<void> {
    await this.people.replaceOne(
      { _id: profileId },
      { ...person, blockingKeys: keys, updatedAt: new Date(), schemaVersion: 1 },
      { upsert: true },
    );
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

  /** Settles a pending candidate; false when it was settled already. */
  async decide(
    candidateId: string,
    status: Exclude<CandidateStatus, 'pending'>,
    extra: Pick<CandidateDocument, 'mergeId'> = {},
  ): Promise<boolean> {
    const result = await this.candidates.updateOne(
      { _id: candidateId, status: 'pending' },
      { $set: { status, decidedAt: new Date(), ...extra } },
    );
    return result.matchedCount === 1;
  }

  async noteRefusal(candidateId: string, refusal: string): Promise<void> {
    await this.candidates.updateOne({ _id: candidateId }, { $set: { refusal } });
  }

  pending(limit: number): Promise<CandidateDocument[]> {
    return this.candidates.find({ status: 'pending' }).sort({ score: -1, _id: 1 }).limit(limit).toArray();
  }

  /** Forgets erased profiles: their description, block memberships and candidates. */
  async erase(profileIds: readonly string[]): Promise<number> {
    const people = await this.people.find({ _id: { $in: [...profileIds] } }).toArray();
    for (const person of people) {
      for (const key of person.blockingKeys) {
        await this.blocks.updateOne({ _id: key }, { $pullAll: { profileIds: [...profileIds] } });
      }
    }
    await this.people.deleteMany({ _id: { $in: [...profileIds] } });
    const candidates = await this.candidates.deleteMany({ profileIds: { $in: [...profileIds] } });
    return people.length + candidates.deletedCount;
  }
}
