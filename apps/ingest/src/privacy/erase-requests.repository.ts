import { Inject, Injectable } from '@nestjs/common';
import { type ServiceName } from '@mesh/contracts';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';

export interface EraseReceipt {
  removed: Record<string, number>;
  durationMs: number;
  /** When the service published its receipt. */
  at: string;
}

export interface EraseRequest {
  requestId: string;
  sourceId: string;
  /** Which kinds of identifier were named; the values themselves are not kept. */
  identifierTypes: string[];
  requestedAt: Date;
  publishedAt?: Date;
  receipts: Partial<Record<ServiceName, EraseReceipt>>;
}

interface EraseRequestDocument extends Omit<EraseRequest, 'requestId'> {
  _id: string;
  schemaVersion: 1;
}

/** Erasure requests and the receipts each service sent back for them. */
@Injectable()
export class EraseRequestsRepository {
  private readonly requests: Collection<EraseRequestDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.requests = db.collection<EraseRequestDocument>('erase_requests');
  }

  /** Creates the request, or leaves an existing one (a retried request) as it is. */
  async create(request: Omit<EraseRequest, 'receipts' | 'publishedAt'>): Promise<EraseRequest> {
    await this.requests.updateOne(
      { _id: request.requestId },
      {
        $setOnInsert: {
          sourceId: request.sourceId,
          identifierTypes: request.identifierTypes,
          requestedAt: request.requestedAt,
          receipts: {},
          schemaVersion: 1,
        },
      },
      { upsert: true },
    );
    return (await this.find(request.requestId))!;
  }

  async markPublished(requestId: string, at: Date): Promise<void> {
    await this.requests.updateOne({ _id: requestId }, { $set: { publishedAt: at } });
  }

  /** Setting the same receipt again changes nothing, so a redelivered receipt has one effect. */
  async recordReceipt(requestId: string, service: ServiceName, receipt: EraseReceipt): Promise<void> {
    await this.requests.updateOne(
      { _id: requestId },
      {
        $set: { [`receipts.${service}`]: receipt },
        $setOnInsert: {
          sourceId: '',
          identifierTypes: [],
          requestedAt: new Date(receipt.at),
          schemaVersion: 1,
        },
      },
      { upsert: true },
    );
  }

  async find(requestId: string): Promise<EraseRequest | undefined> {
    const document = await this.requests.findOne({ _id: requestId });
    if (!document) return undefined;
    return {
      requestId: document._id,
      sourceId: document.sourceId,
      identifierTypes: document.identifierTypes,
      requestedAt: document.requestedAt,
      ...(document.publishedAt ? { publishedAt: document.publishedAt } : {}),
      receipts: document.receipts ?? {},
    };
  }
}
