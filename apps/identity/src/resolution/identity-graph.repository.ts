import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { type IdentifierDto } from '@mesh/contracts';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';
import { identifierKey } from './identifiers.js';

interface IdentifierDocument {
  /** `<type>:<value>`: unique, so one identifier belongs to one profile. */
  _id: string;
  type: string;
  value: string;
  profileId: string;
  createdAt: Date;
  schemaVersion: 1;
}

interface ProfileDocument {
  _id: string;
  identifiers: string[];
  firstSeen: Date;
  lastSeen: Date;
  schemaVersion: 1;
}

@Injectable()
export class IdentityGraphRepository implements OnModuleInit {
  private readonly identifiers: Collection<IdentifierDocument>;
  private readonly profiles: Collection<ProfileDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.identifiers = db.collection<IdentifierDocument>('identifiers');
    this.profiles = db.collection<ProfileDocument>('profiles');
  }

  async onModuleInit(): Promise<void> {
    await this.identifiers.createIndex({ profileId: 1 }, { name: 'by_profile' });
  }

  /** Owners of the identifiers that are known, by identifier key. */
  async owners(identifiers: readonly IdentifierDto[]): Promise<Map<string, string>> {
    const keys = identifiers.map(identifierKey);
    const documents = await this.identifiers.find({ _id: { $in: keys } }).toArray();
    return new Map(documents.map((document) => [document._id, document.profileId]));
  }

  /**
   * Gives each identifier to `profileId` unless it already has an owner (first writer wins), and
   * returns the owner of each afterwards.
   */
  async claim(identifiers: readonly IdentifierDto[], profileId: string): Promise<Map<string, string>> {
    await this.identifiers.bulkWrite(
      identifiers.map((identifier) => ({
        updateOne: {
          filter: { _id: identifierKey(identifier) },
          update: {
            $setOnInsert: {
              type: identifier.type,
              value: identifier.value,
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
    return this.owners(identifiers);
  }

  /** Records the profile's identifiers and when it was seen; idempotent. */
  async touchProfile(profileId: string, identifiers: readonly IdentifierDto[], seenAt: Date): Promise<void> {
    await this.profiles.updateOne(
      { _id: profileId },
      {
        $addToSet: { identifiers: { $each: identifiers.map(identifierKey) } },
        $min: { firstSeen: seenAt },
        $max: { lastSeen: seenAt },
        $setOnInsert: { schemaVersion: 1 as const },
      },
      { upsert: true },
    );
  }
}
