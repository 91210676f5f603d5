import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { EraseRequestsRepository } from './erase-requests.repository.js';

/** Keeps each service's erasure receipt with its request; the same receipt twice is one receipt. */
@Controller()
export class EraseDoneHandler {
  constructor(private readonly requests: EraseRequestsRepository) {}

  @OnMessage('privacy.erase.done.*', { orderBy: (envelope) => envelope.data.requestId })
  async handle(@Payload() envelope: EnvelopeOf<'privacy.erase.done.*'>): Promise<void> {
    const { requestId, service, removed, durationMs } = envelope.data;
    await this.requests.recordReceipt(requestId, service, { removed, durationMs, at: envelope.occurredAt });
  }
}
