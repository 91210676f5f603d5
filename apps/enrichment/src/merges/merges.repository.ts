import { Inject, Injectable } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';
import { emptyState, type ProfileModel, type ProfileState } from '../profiles/profile-model.js';
import { decodeValue, encodeValue } from '../profiles/stored-keys.js';

/** The profiles as they were before a merge, so a split can rebuild them. */
export interface MergeBackup {
  mergeId: string;
  survivorId: string;
  /** When identity merged them: the survivor's traits set later survive a split. */
  mergedAt: string;
  survivor?: ProfileModel;
  merged: ProfileModel[];
}

interface MergeDocument {
  _id: string;
  survivorId: string;
  mergedAt: string;
  /** Encoded models (stored-keys.ts). */
  survivor?: Record<string, unknown>;
  merged: Array<Record<string, unknown>>;
  schemaVersion: 1;
}

@Injectable()
export class MergesRepository {
  private readonly merges: Collection<MergeDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.merges = db.collection<MergeDocument>('merges');
  }

  /** Keeps the first backup of a merge: a redelivered merge must not back up the folded profile. */
  async keepFirst(backup: MergeBackup): Promise<MergeBackup> {
    try {
      await this.merges.insertOne({
        _id: backup.mergeId,
        survivorId: backup.survivorId,
        mergedAt: backup.mergedAt,
        ...(backup.survivor ? { survivor: encodeValue(backup.survivor) as Record<string, unknown> } : {}),
        merged: backup.merged.map((model) => encodeValue(model) as Record<string, unknown>),
        schemaVersion: 1,
      });
      return backup;
    } catch (error) {
      if (!(error instanceof MongoServerError) || error.code !== 11000) throw error;
      return (await this.get(backup.mergeId))!;
    }
  }

  async get(mergeId: string): Promise<MergeBackup | undefined> {
    const document = await this.merges.findOne({ _id: mergeId });
    if (!document) return undefined;
    return {
      mergeId: document._id,
      survivorId: document.survivorId,
      mergedAt: document.mergedAt,
      ...(document.survivor ? { survivor: toModel(document.survivor) } : {}),
      merged: document.merged.map(toModel),
    };
  }

  async removeProfiles(profileIds: readonly string[]): Promise<number> {
    if (profileIds.length === 0) return 0;
    const ids = [...profileIds];
    return (
      await this.merges.deleteMany({
        $or: [{ survivorId: { $in: ids } }, { 'merged.profileId': { $in: ids } }],
      })
    ).deletedCount;
  }
}

function toModel(stored: Record<string, unknown>): ProfileModel {
  const model = decodeValue(stored) as ProfileModel;
  return { ...model, state: { ...emptyState(), ...(model.state as Partial<ProfileState>) } };
}
