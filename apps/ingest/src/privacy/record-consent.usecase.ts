import { Injectable } from '@nestjs/common';
import { deterministicId, originEnvelope, SUBJECTS } from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { randomUUID } from 'node:crypto';
import { StoreOnceService } from '../dedup/store-once.service.js';
import { type Source } from '../sources/source.js';
import { type ErasableIdentifier, ErasedIdentities } from './erased-identities.js';
import { type ConsentRequestDto } from './privacy.dto.js';

/**
 * One consent statement → `ingest.consent`, which identity resolves and delivery keeps in its
 * consent view. An opt-in also re-consents an erased identity (its user id and address), so its
 * new events are taken again.
 */
@Injectable()
export class RecordConsentUseCase {
  constructor(
    private readonly publisher: MessagePublisher,
    private readonly storeOnce: StoreOnceService,
    private readonly erasedIdentities: ErasedIdentities,
  ) {}

  async execute(source: Source, request: ConsentRequestDto, receivedAt: Date): Promise<void> {
    const messageId = request.messageId ?? randomUUID();
    const at = request.at ?? receivedAt.toISOString();
    const envelope = originEnvelope({
      id: deterministicId('ingest', source.id, messageId),
      source: source.id,
      occurredAt: new Date(at).toISOString(),
      receivedAt: receivedAt.toISOString(),
      type: 'consent',
      data: {
        messageId,
        ...(request.userId === undefined ? {} : { userId: request.userId }),
        ...(request.anonymousId === undefined ? {} : { anonymousId: request.anonymousId }),
        consent: {
          channel: request.channel,
          status: request.status,
          source: request.source ?? source.id,
          at,
        },
        ...(request.email === undefined ? {} : { traits: { email: request.email } }),
      },
    });
    await this.storeOnce.store(source.id, request.messageId, () =>
      this.publisher.publish(SUBJECTS.ingest.consent, envelope),
    );
    if (request.status === 'opted_in') {
      const identifiers: ErasableIdentifier[] = [
        ...(request.userId === undefined ? [] : [{ type: 'user_id' as const, value: request.userId }]),
        ...(request.email === undefined ? [] : [{ type: 'email' as const, value: request.email }]),
      ];
      await this.erasedIdentities.reconsent(identifiers, new Date(at));
    }
  }
}
