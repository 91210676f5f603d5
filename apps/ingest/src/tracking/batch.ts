import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';
import { fieldErrors } from '@mesh/runtime';
import { type ClassConstructor, plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { type AcceptCommand } from './accept-event.usecase.js';
import { quickTrack } from './quick-track.js';
import {
  AliasRequestDto,
  type BatchRequestDto,
  GroupRequestDto,
  IdentifyRequestDto,
  MAX_EVENT_BYTES,
  PageRequestDto,
  ScreenRequestDto,
  type SegmentEventDto,
  TrackRequestDto,
} from './segment-event.dto.js';

const CALLS = {
  track: TrackRequestDto,
  identify: IdentifyRequestDto,
  page: PageRequestDto,
  screen: ScreenRequestDto,
  group: GroupRequestDto,
  alias: AliasRequestDto,
} as const satisfies Record<AcceptCommand['type'], ClassConstructor<SegmentEventDto>>;
type CallType = keyof typeof CALLS;

const isCallType = (type: unknown): type is CallType =>
  typeof type === 'string' && Object.hasOwn(CALLS, type);

/** A 413 naming the call at fault, when one event is over Segment's per-event limit. */
export function assertEventSize(event: unknown, field = 'body'): void {
  const bytes = Buffer.byteLength(JSON.stringify(event));
  if (bytes > MAX_EVENT_BYTES) {
    throw new PayloadTooLargeException({
      error: 'payload_too_large',
      message: `an event may be at most ${MAX_EVENT_BYTES} bytes; ${field} has ${bytes}`,
      fields: { [field]: [`larger than ${MAX_EVENT_BYTES} bytes`] },
    });
  }
}

/**
 * Checks every call of a batch before any is published, so a batch is accepted whole or refused
 * whole with each field at fault named by its place (`batch.3.event`); the batch's own `sentAt`,
 * `context` and `integrations` apply to calls that have none.
 */
export function readBatch(request: BatchRequestDto): Omit<AcceptCommand, 'source' | 'receivedAt'>[] {
  const calls: Omit<AcceptCommand, 'source' | 'receivedAt'>[] = [];
  const fields: Record<string, string[]> = {};
  request.batch.forEach((raw, index) => {
    const at = `batch.${index}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      fields[at] = ['each call must be a JSON object'];
      return;
    }
    assertEventSize(raw, at);
    const { type } = raw as { type?: unknown };
    if (!isCallType(type)) {
      fields[`${at}.type`] = [`type must be one of ${Object.keys(CALLS).join(', ')}`];
      return;
    }
    const plain = {
      ...(request.sentAt === undefined ? {} : { sentAt: request.sentAt }),
      ...(request.context === undefined ? {} : { context: request.context }),
      ...(request.integrations === undefined ? {} : { integrations: request.integrations }),
      ...raw,
    };
    const quick = type === 'track' ? quickTrack(plain) : undefined;
    if (quick) {
      calls.push({ type, event: quick });
      return;
    }
    const event = plainToInstance(CALLS[type] as ClassConstructor<SegmentEventDto>, plain);
    const errors = validateSync(event, { whitelist: true, forbidNonWhitelisted: true });
    if (errors.length > 0) Object.assign(fields, fieldErrors(errors, at));
    else calls.push({ type, event });
  });
  if (Object.keys(fields).length > 0) {
    throw new BadRequestException({ error: 'invalid_request', message: 'the batch is not valid', fields });
  }
  return calls;
}
