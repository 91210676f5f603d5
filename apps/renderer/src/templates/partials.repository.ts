import { Inject, Injectable } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';

interface PartialDocument {
  /** The partial's name, as templates include it: `{{> footer }}`. */
  _id: string;
  source: string;
  /** Raised on every save; a published template records the versions it took. */
  version: number;
  updatedAt: Date;
  schemaVersion: 1;
}

export interface PartialView {
  name: string;
  source: string;
  version: number;
}

/** Partials and layouts, registered by name (templates never include files). */
@Injectable()
export class PartialsRepository {
  private readonly partials: Collection<PartialDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.partials = db.collection<PartialDocument>('partials');
  }

  async save(name: string, source: string): Promise<PartialView> {
    const saved = await this.partials.findOneAndUpdate(
      { _id: name },
      { $set: { source, updatedAt: new Date(), schemaVersion: 1 }, $inc: { version: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    return { name, source, version: saved!.version };
  }

  async list(): Promise<PartialView[]> {
    const documents = await this.partials.find({}).sort({ _id: 1 }).toArray();
    return documents.map(({ _id, source, version }) => ({ name: _id, source, version }));
  }

  /** Every partial and layout, by name. */
  async byName(): Promise<Map<string, PartialView>> {
    return new Map((await this.list()).map((partial) => [partial.name, partial]));
  }
}
