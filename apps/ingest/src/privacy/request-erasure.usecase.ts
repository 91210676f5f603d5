import { Injectable } from '@nestjs/common';
import { deterministicId, type IdentifierDto, originEnvelope, SUBJECTS } from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { randomUUID } from 'node:crypto';
import { StoreOnceService } from '../dedup/store-once.service.js';
import { type Source } from '../sources/source.js';
import { EraseRequestsRepository } from './erase-requests.repository.js';
import { type ErasableIdentifier, ErasedIdentities } from './erased-identities.js';
import { type EraseRequestDto } from './privacy.dto.js';

/**
 * Records an erasure request, then publishes `privacy.erase.requested` for every service. The
 * envelope id derives from the request id, so a retried request (same requestId) is published once.
 * From then on the person's new events are dropped until they opt in again (ErasedIdentities).
 */
@Injectable()
export class RequestErasureUseCase {
  constructor(
    private readonly requests: EraseRequestsRepository,
    private readonly publisher: MessagePublisher,
    private readonly storeOnce: StoreOnceService,
    private readonly erasedIdentities: ErasedIdentities,
  ) {}

  async execute(source: Source, request: EraseRequestDto, receivedAt: Date): Promise<string> {
    const requestId = request.requestId ?? randomUUID();
    const identifiers: (IdentifierDto & ErasableIdentifier)[] = [
      ...(request.userId === undefined ? [] : [{ type: 'user_id' as const, value: request.userId }]),
      ...(request.email === undefined ? [] : [{ type: 'email' as const, value: request.email }]),
    ];
    await this.requests.create({
      requestId,
      sourceId: source.id,
      identifierTypes: identifiers.map((identifier) => identifier.type),
      requestedAt: receivedAt,
    });
    // Before the announcement: from the 202 on, no new event of this person is published.
    await this.erasedIdentities.erase(identifiers, requestId, receivedAt);
    const envelope = originEnvelope({
      id: deterministicId('ingest', 'privacy.erase.requested', requestId),
      source: source.id,
      occurredAt: receivedAt.toISOString(),
      receivedAt: receivedAt.toISOString(),
      type: 'privacy.erase.requested',
      data: { requestId, identifiers },
    });
    await this.storeOnce.withinDeadline(this.publisher.publish(SUBJECTS.privacy.eraseRequested, envelope));
    await this.requests.markPublished(requestId, new Date());
    return requestId;
  }
}
