import { Injectable } from '@nestjs/common';
import {
  deterministicId,
  type Envelope,
  type IngestedEventBase,
  originEnvelope,
  SUBJECTS,
} from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { randomUUID } from 'node:crypto';
import { type Source } from '../sources/source.js';
import { type IdentifyRequestDto, type SegmentEventDto, type TrackRequestDto } from './segment-event.dto.js';

export type AcceptCommand =
  | { type: 'track'; source: Source; event: TrackRequestDto; receivedAt: Date }
  | { type: 'identify'; source: Source; event: IdentifyRequestDto; receivedAt: Date };

/**
 * Turns one accepted tracking call into one message on `ingest.<type>`. The id is derived from the
 * source and the event's messageId, so an SDK's retry of the same event is stored once.
 */
@Injectable()
export class AcceptEventUseCase {
  constructor(private readonly publisher: MessagePublisher) {}

  async execute(command: AcceptCommand): Promise<Envelope> {
    const messageId = command.event.messageId ?? randomUUID();
    const base = this.base(command.event, messageId);
    const envelopeArgs = {
      id: deterministicId('ingest', command.source.id, messageId),
      source: command.source.id,
      occurredAt: (command.event.timestamp
        ? new Date(command.event.timestamp)
        : command.receivedAt
      ).toISOString(),
      receivedAt: command.receivedAt.toISOString(),
    };
    switch (command.type) {
      case 'track': {
        const envelope = originEnvelope({
          ...envelopeArgs,
          type: 'track',
          data: { ...base, event: command.event.event, properties: command.event.properties ?? {} },
        });
        await this.publisher.publish(SUBJECTS.ingest.track, envelope);
        return envelope;
      }
      case 'identify': {
        const envelope = originEnvelope({
          ...envelopeArgs,
          type: 'identify',
          data: { ...base, traits: command.event.traits ?? {} },
        });
        await this.publisher.publish(SUBJECTS.ingest.identify, envelope);
        return envelope;
      }
    }
  }

  private base(event: SegmentEventDto, messageId: string): IngestedEventBase {
    return {
      messageId,
      ...(event.userId === undefined ? {} : { userId: event.userId }),
      ...(event.anonymousId === undefined ? {} : { anonymousId: event.anonymousId }),
      ...(event.context === undefined ? {} : { context: event.context }),
      ...(event.integrations === undefined ? {} : { integrations: event.integrations }),
    };
  }
}
