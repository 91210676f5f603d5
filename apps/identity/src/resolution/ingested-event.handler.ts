import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { EVENT_TYPES, type EventType } from '@mesh/contracts';
import { type EnvelopeOf, JetStreamContext, OnMessage, PermanentError } from '@mesh/messaging';
import { ResolveEventUseCase } from './resolve-event.usecase.js';

@Controller()
export class IngestedEventHandler {
  constructor(private readonly resolve: ResolveEventUseCase) {}

  // One person's events are resolved in the order they arrived.
  @OnMessage('ingest.*', { orderBy: (envelope) => envelope.data.userId ?? envelope.data.anonymousId })
  async handle(@Payload() envelope: EnvelopeOf<'ingest.*'>, @Ctx() context: JetStreamContext): Promise<void> {
    const type = context.subject.slice('ingest.'.length) as EventType;
    if (!EVENT_TYPES.includes(type)) throw new PermanentError(`unknown event type ${type}`, 'UNKNOWN_TYPE');
    await this.resolve.execute(type, envelope);
  }
}
