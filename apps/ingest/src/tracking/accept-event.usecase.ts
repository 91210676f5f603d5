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
import { StoreOnceService } from '../dedup/store-once.service.js';
import { ErasedIdentities, identifiersOf } from '../privacy/erased-identities.js';
import { type Source } from '../sources/source.js';
import {
  type AliasRequestDto,
  type GroupRequestDto,
  type IdentifyRequestDto,
  type PageRequestDto,
  type ScreenRequestDto,
  type SegmentEventDto,
  type TrackRequestDto,
} from './segment-event.dto.js';

type Command<T extends string, E> = { type: T; source: Source; event: E; receivedAt: Date };

export type AcceptCommand =
  | Command<'track', TrackRequestDto>
  | Command<'identify', IdentifyRequestDto>
  | Command<'page', PageRequestDto>
  | Command<'screen', ScreenRequestDto>
  | Command<'group', GroupRequestDto>
  | Command<'alias', AliasRequestDto>;

/**
 * When the event happened, corrected for the sender's clock as Segment does: with `sentAt`, the
 * event's own time is shifted by the difference between the sender's clock and ours.
 */
export function occurredAt(event: SegmentEventDto, receivedAt: Date): Date {
  const stated = event.timestamp ?? event.originalTimestamp;
  if (stated === undefined) return receivedAt;
  if (event.sentAt === undefined) return new Date(stated);
  return new Date(receivedAt.getTime() - (Date.parse(event.sentAt) - Date.parse(stated)));
}

/** What became of an accepted call: stored now, already stored (same messageId), or dropped (erased identity). */
export type AcceptOutcome = 'stored' | 'duplicate' | 'erased';

/** The person identifiers of a call; a group's traits describe the group, not the person. */
export const callIdentifiers = (command: Pick<AcceptCommand, 'type' | 'event'>) =>
  identifiersOf({
    userId: command.event.userId,
    context: command.event.context,
    ...(command.type === 'identify' ? { traits: (command.event as IdentifyRequestDto).traits } : {}),
    ...(command.type === 'alias' ? { previousId: (command.event as AliasRequestDto).previousId } : {}),
  });

/**
 * Turns one accepted tracking call into one message on `ingest.<type>`, once per (source,
 * messageId) within the dedup window (see StoreOnceService). A call about an identity whose
 * erasure was requested (and who has not opted in since) is dropped: answered like any other call
 * (SDKs would retry or log an error otherwise, and the answer would tell any holder of a browser
 * write key who asked to be forgotten), but never published.
 */
@Injectable()
export class AcceptEventUseCase {
  constructor(
    private readonly publisher: MessagePublisher,
    private readonly storeOnce: StoreOnceService,
    private readonly erasedIdentities: ErasedIdentities,
  ) {}

  async execute(command: AcceptCommand): Promise<AcceptOutcome> {
    if (this.erasedIdentities.isErased(callIdentifiers(command))) return 'erased';
    const stored = await this.storeOnce.store(command.source.id, command.event.messageId, () =>
      this.publish(command),
    );
    return stored ? 'stored' : 'duplicate';
  }

  /** The calls of one source (a batch, a webhook, an import chunk) with one dedup round trip each way. */
  async executeMany(commands: AcceptCommand[]): Promise<AcceptOutcome[]> {
    if (commands.length === 0) return [];
    const outcomes: AcceptOutcome[] = commands.map((command) =>
      this.erasedIdentities.isErased(callIdentifiers(command)) ? 'erased' : 'stored',
    );
    const kept = commands.filter((_command, index) => outcomes[index] === 'stored');
    const stored = await this.storeOnce.storeMany(
      commands[0]!.source.id,
      kept.map((command) => ({ messageId: command.event.messageId, publish: () => this.publish(command) })),
    );
    let next = 0;
    return outcomes.map((outcome) =>
      outcome === 'erased' ? outcome : stored[next++] ? 'stored' : 'duplicate',
    );
  }

  private async publish(command: AcceptCommand): Promise<Envelope> {
    const messageId = command.event.messageId ?? randomUUID();
    const base = this.base(command.event, messageId);
    const envelopeArgs = {
      id: deterministicId('ingest', command.source.id, messageId),
      source: command.source.id,
      occurredAt: occurredAt(command.event, command.receivedAt).toISOString(),
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
      case 'page':
      case 'screen': {
        const { name, category, properties } = command.event;
        const envelope = originEnvelope({
          ...envelopeArgs,
          type: command.type,
          data: {
            ...base,
            ...(name === undefined ? {} : { name }),
            ...(category === undefined ? {} : { category }),
            properties: properties ?? {},
          },
        });
        await this.publisher.publish(SUBJECTS.ingest[command.type], envelope);
        return envelope;
      }
      case 'group': {
        const envelope = originEnvelope({
          ...envelopeArgs,
          type: 'group',
          data: { ...base, groupId: command.event.groupId, traits: command.event.traits ?? {} },
        });
        await this.publisher.publish(SUBJECTS.ingest.group, envelope);
        return envelope;
      }
      case 'alias': {
        const envelope = originEnvelope({
          ...envelopeArgs,
          type: 'alias',
          data: { ...base, previousId: command.event.previousId },
        });
        await this.publisher.publish(SUBJECTS.ingest.alias, envelope);
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
