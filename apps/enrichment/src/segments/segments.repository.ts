import { Inject, Injectable } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';
import { encodeValue, decodeValue } from '../profiles/stored-keys.js';
import { type Segment } from './segment.js';

interface SegmentDocument {
  _id: string;
  name: string;
  /** Encoded: rules name customer traits, which may hold dots. */
  rule: Record<string, unknown>;
  createdAt: string;
  schemaVersion: 1;
}

@Injectable()
export class SegmentsRepository {
  private readonly segments: Collection<SegmentDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.segments = db.collection<SegmentDocument>('segments');
  }

  async all(): Promise<Segment[]> {
    const documents = await this.segments.find({}).sort({ _id: 1 }).toArray();
    return documents.map((document) => this.toSegment(document));
  }

  async get(segmentId: string): Promise<Segment | undefined> {
    const document = await this.segments.findOne({ _id: segmentId });
    return document ? this.toSegment(document) : undefined;
  }

  /** False when a segment with this id exists already. */
  async create(segment: Segment): Promise<boolean> {
    try {
      await this.segments.insertOne(this.toDocument(segment));
      return true;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === 11000) return false;
      throw error;
    }
  }

  async replace(segment: Segment): Promise<boolean> {
    const result = await this.segments.replaceOne({ _id: segment.segmentId }, this.toDocument(segment));
    return result.matchedCount === 1;
  }

  async remove(segmentId: string): Promise<boolean> {
    return (await this.segments.deleteOne({ _id: segmentId })).deletedCount === 1;
  }

  private toDocument(segment: Segment): SegmentDocument {
    return {
      _id: segment.segmentId,
      name: segment.name,
      rule: encodeValue(segment.rule) as Record<string, unknown>,
      createdAt: segment.createdAt,
      schemaVersion: 1,
    };
  }

  private toSegment(document: SegmentDocument): Segment {
    return {
      segmentId: document._id,
      name: document.name,
      rule: decodeValue(document.rule) as Segment['rule'],
      createdAt: document.createdAt,
    };
  }
}
