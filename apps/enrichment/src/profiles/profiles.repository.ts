import { Inject, Injectable } from '@nestjs/common';
import { type ProfileSnapshotDto } from '@mesh/contracts';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';
import { decodeValue, encodeKey, encodeValue } from './stored-keys.js';

interface ProfileDocument {
  _id: string;
  traits: Record<string, unknown>;
  computed: Record<string, unknown>;
  version: number;
  /** Ids of the last messages applied, so a redelivered one is not applied twice. */
  applied: string[];
  updatedAt: Date;
  schemaVersion: 1;
}

export interface ProfileChange {
  traits: Record<string, unknown>;
  computed: Record<string, unknown>;
}

const APPLIED_KEPT = 200;

@Injectable()
export class ProfilesRepository {
  private readonly profiles: Collection<ProfileDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.profiles = db.collection<ProfileDocument>('profiles');
  }

  /**
   * Applies a change once per message id, atomically, and returns the profile after it. A message
   * already applied leaves the profile as it is.
   */
  async apply(profileId: string, messageId: string, change: ProfileChange): Promise<ProfileSnapshotDto> {
    const set: Record<string, unknown> = { updatedAt: new Date() };
    for (const [key, value] of Object.entries(change.traits))
      set[`traits.${encodeKey(key)}`] = encodeValue(value);
    for (const [key, value] of Object.entries(change.computed))
      set[`computed.${encodeKey(key)}`] = encodeValue(value);
    const notYetApplied = { _id: profileId, applied: { $ne: messageId } };
    const update = {
      $set: set,
      $inc: { version: 1 },
      $push: { applied: { $each: [messageId], $slice: -APPLIED_KEPT } },
      $setOnInsert: { schemaVersion: 1 as const },
    };
    try {
      const updated = await this.profiles.findOneAndUpdate(notYetApplied, update, {
        upsert: true,
        returnDocument: 'after',
      });
      if (updated) return this.snapshot(updated);
    } catch (error) {
      // The upsert's insert collided on _id: the profile exists, and either has this message already or
      // was created meanwhile by a concurrent first write (another replica): then apply it now.
      if (!(error instanceof MongoServerError) || error.code !== 11000) throw error;
      const updated = await this.profiles.findOneAndUpdate(notYetApplied, update, {
        returnDocument: 'after',
      });
      if (updated) return this.snapshot(updated);
    }
    const current = await this.profiles.findOne({ _id: profileId });
    if (!current) throw new Error(`profile ${profileId} vanished while applying ${messageId}`);
    return this.snapshot(current);
  }

  private snapshot(document: ProfileDocument): ProfileSnapshotDto {
    return {
      profileId: document._id,
      traits: decodeValue(document.traits ?? {}) as Record<string, unknown>,
      computed: decodeValue(document.computed ?? {}) as Record<string, unknown>,
      version: document.version,
    };
  }
}
