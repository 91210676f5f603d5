import {
  BadRequestException,
  ConflictException,
  Injectable,
  UnprocessableEntityException,
} from '@nestjs/common';
import { fieldErrors } from '@mesh/runtime';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { createHash } from 'node:crypto';
import { type Source } from '../sources/source.js';
import { type AcceptCommand, AcceptEventUseCase } from '../tracking/accept-event.usecase.js';
import { IdentifyRequestDto, TrackRequestDto } from '../tracking/segment-event.dto.js';
import { type WebhookMappingName } from './mapping-names.js';
import { BUILT_IN_MAPPINGS } from './mappings/built-in-mappings.js';
import { applyMapping, type WebhookMapping } from './webhook-mapping.js';
import { WebhookReplaysRepository } from './webhook-replays.repository.js';

export interface ReceiveWebhookCommand {
  source: Source;
  headers: Record<string, string | undefined>;
  signature: string;
  rawBody: Buffer;
  body: unknown;
  receivedAt: Date;
}

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

/**
 * A verified webhook becomes the track/identify calls its source's mapping says, published like
 * tracking calls. Message ids come from the source, the topic and the sender's delivery id (or the
 * body's hash), so a webhook the sender retries is counted once.
 */
@Injectable()
export class ReceiveWebhookUseCase {
  constructor(
    private readonly accept: AcceptEventUseCase,
    private readonly replays: WebhookReplaysRepository,
  ) {}

  async execute(command: ReceiveWebhookCommand): Promise<{ success: true; events: number }> {
    const { source, headers } = command;
    const mapping: WebhookMapping | undefined =
      typeof source.webhookMapping === 'string'
        ? Object.hasOwn(BUILT_IN_MAPPINGS, source.webhookMapping)
          ? BUILT_IN_MAPPINGS[source.webhookMapping as WebhookMappingName]
          : undefined
        : source.webhookMapping;
    if (!mapping) {
      throw new UnprocessableEntityException({
        error: 'no_mapping',
        message: `source ${source.id} has no webhook mapping; set webhookMapping with PATCH /api/sources/${source.id}`,
      });
    }
    if (typeof command.body !== 'object' || command.body === null || Array.isArray(command.body)) {
      throw new BadRequestException({
        error: 'invalid_request',
        message: 'a webhook body must be a JSON object',
        fields: { body: ['must be a JSON object'] },
      });
    }
    const topic = headers[mapping.topicHeader] ?? headers['x-mesh-topic'];
    const deliveryKey = sha256(
      `${topic ?? ''}\n${headers[mapping.deliveryIdHeader] ?? headers['x-mesh-delivery-id'] ?? sha256(command.rawBody)}`,
    ).slice(0, 40);
    const calls = applyMapping(mapping, topic, command.body).map((call, index): AcceptCommand => {
      const plain = { ...call.body, messageId: `webhook-${deliveryKey}-${index}` };
      const event =
        call.type === 'track'
          ? plainToInstance(TrackRequestDto, plain)
          : plainToInstance(IdentifyRequestDto, plain);
      const errors = validateSync(event, { whitelist: true, forbidNonWhitelisted: true });
      if (errors.length > 0) {
        throw new UnprocessableEntityException({
          error: 'unmappable',
          message: `the ${topic} webhook does not give a valid ${call.type} call with the ${mapping.name} mapping`,
          fields: fieldErrors(errors, `events.${index}`),
        });
      }
      const base = { source, receivedAt: command.receivedAt };
      return event instanceof TrackRequestDto
        ? { ...base, type: 'track', event }
        : { ...base, type: 'identify', event };
    });

    if (!(await this.replays.claim(source.id, command.signature))) {
      throw new ConflictException({
        error: 'replayed',
        message: 'this signature was already used; sign each delivery with a fresh timestamp',
      });
    }
    try {
      await this.accept.executeMany(calls);
    } catch (error) {
      await this.replays.release(source.id, command.signature);
      throw error;
    }
    return { success: true, events: calls.length };
  }
}
