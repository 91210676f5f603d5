import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';
import { type RenderInput } from '../rendering/render-input.js';

/** Sample data to preview templates with: the only personal data renderer keeps. */
export interface PreviewSample {
  sampleId: string;
  /** The profile it was taken from, if any; erasure of that profile removes the sample. */
  profileId?: string;
  input: RenderInput;
}

interface PreviewSampleDocument {
  _id: string;
  profileId?: string;
  /** Lower-cased, for erasure by email identifier. */
  email?: string;
  input: RenderInput;
  updatedAt: Date;
  schemaVersion: 1;
}

@Injectable()
export class PreviewSamplesRepository implements OnModuleInit {
  private readonly samples: Collection<PreviewSampleDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.samples = db.collection<PreviewSampleDocument>('preview_samples');
  }

  async onModuleInit(): Promise<void> {
    await this.samples.createIndex({ profileId: 1 }, { name: 'profile' });
    await this.samples.createIndex({ email: 1 }, { name: 'email' });
  }

  async save(sample: PreviewSample): Promise<void> {
    const email = sample.input.traits.email;
    await this.samples.replaceOne(
      { _id: sample.sampleId },
      {
        ...(sample.profileId ? { profileId: sample.profileId } : {}),
        ...(typeof email === 'string' ? { email: email.trim().toLowerCase() } : {}),
        input: sample.input,
        updatedAt: new Date(),
        schemaVersion: 1,
      },
      { upsert: true },
    );
  }

  async find(sampleId: string): Promise<PreviewSample | undefined> {
    const document = await this.samples.findOne({ _id: sampleId });
    return document ? sampleOf(document) : undefined;
  }

  /** The sample stored for a profile (the newest, if several were). */
  async findByProfile(profileId: string): Promise<PreviewSample | undefined> {
    const [document] = await this.samples.find({ profileId }).sort({ updatedAt: -1 }).limit(1).toArray();
    return document ? sampleOf(document) : undefined;
  }

  async list(): Promise<PreviewSample[]> {
    return (await this.samples.find({}).sort({ _id: 1 }).limit(500).toArray()).map(sampleOf);
  }

  /** Removes the samples of these profiles or email addresses; returns how many went. */
  async erase(profileIds: readonly string[], emails: readonly string[]): Promise<number> {
    const result = await this.samples.deleteMany({
      $or: [
        { profileId: { $in: [...profileIds] } },
        { email: { $in: emails.map((e) => e.trim().toLowerCase()) } },
      ],
    });
    return result.deletedCount;
  }
}

function sampleOf(document: PreviewSampleDocument): PreviewSample {
  return {
    sampleId: document._id,
    ...(document.profileId ? { profileId: document.profileId } : {}),
    input: document.input,
  };
}
