import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { type EventType } from '@mesh/contracts';
import { type EnvelopeOf, JetStreamContext, OnMessage } from '@mesh/messaging';
import { ApplyEventUseCase } from './apply-event.usecase.js';
import { inputOfResolved } from './inputs.js';

@Controller()
export class ResolvedEventHandler {
  constructor(private readonly apply: ApplyEventUseCase) {}

  // One profile's events are applied one at a time, in stream order.
  @OnMessage('identity.resolved.*', { orderBy: (envelope) => envelope.profileId })
  async handle(
    @Payload() envelope: EnvelopeOf<'identity.resolved.*'>,
    @Ctx() context: JetStreamContext,
  ): Promise<void> {
    const type = context.subject.slice('identity.resolved.'.length) as EventType;
    await this.apply.execute(envelope, inputOfResolved(type, envelope));
  }
}
