import { validatedBody } from '@mesh/runtime';
import { isObject } from 'class-validator';
import { BatchRequestDto, isTimestampValue, TrackRequestDto } from './segment-event.dto.js';

const TRACK_KEYS = new Set([
  'messageId',
  'userId',
  'anonymousId',
  'context',
  'integrations',
  'timestamp',
  'sentAt',
  'originalTimestamp',
  'type',
  'writeKey',
  '_metadata',
  'channel',
  'version',
  'event',
  'properties',
]);
const OBJECT_KEYS = ['context', 'integrations', '_metadata', 'properties'] as const;
const TIME_KEYS = ['timestamp', 'sentAt', 'originalTimestamp'] as const;
const STRING_KEYS = ['type', 'writeKey', 'channel'] as const;

/** `Length(1, 256)` as class-validator counts (a lone variation selector is no character). */
export const isIdString = (value: unknown): value is string =>
  typeof value === 'string' && value.length >= 1 && value.length <= 256 && /[^\uFE0E\uFE0F]/.test(value);

/**
 * The usual track call checked by hand, without class-transformer's deep copy of `properties` and
 * `context` and class-validator's metadata walk (together about a third of a /v1/track call's
 * CPU): a call this passes is valid for TrackRequestDto with the global pipe's rules (whitelist,
 * unknown fields refused). Nulls, unknown fields and anything else go through class-validator, so
 * a refusal names the fields exactly as before. quick-track.spec.ts checks that both agree.
 */
export function quickTrack(body: Record<string, unknown>): TrackRequestDto | undefined {
  for (const key in body) {
    if (!TRACK_KEYS.has(key) || body[key] === null) return undefined;
  }
  if (!isIdString(body.event)) return undefined;
  if (body.messageId !== undefined && !isIdString(body.messageId)) return undefined;
  if (body.userId === undefined ? body.anonymousId === undefined : !isIdString(body.userId)) return undefined;
  if (body.anonymousId !== undefined && !isIdString(body.anonymousId)) return undefined;
  for (const key of OBJECT_KEYS) if (body[key] !== undefined && !isObject(body[key])) return undefined;
  for (const key of TIME_KEYS) if (body[key] !== undefined && !isTimestampValue(body[key])) return undefined;
  for (const key of STRING_KEYS)
    if (body[key] !== undefined && typeof body[key] !== 'string') return undefined;
  return Object.assign(new TrackRequestDto(), body);
}

const BATCH_KEYS = new Set(['batch', 'sentAt', 'writeKey', 'context', 'integrations', '_metadata']);
const MAX_BATCH_CALLS = 2_500;

/**
 * A `/v1/batch` body's own fields checked by hand (its calls are checked one by one by readBatch):
 * the global pipe's class-transformer copied every call of the batch deeply before that, about a
 * tenth of a batch's CPU. As quickTrack, anything unusual goes through class-validator for its 400.
 */
export function quickBatch(body: Record<string, unknown>): BatchRequestDto | undefined {
  for (const key in body) {
    if (!BATCH_KEYS.has(key) || body[key] === null) return undefined;
  }
  const { batch, sentAt, writeKey } = body;
  if (!Array.isArray(batch) || batch.length < 1 || batch.length > MAX_BATCH_CALLS) return undefined;
  if (sentAt !== undefined && !isTimestampValue(sentAt)) return undefined;
  if (writeKey !== undefined && typeof writeKey !== 'string') return undefined;
  for (const key of ['context', 'integrations', '_metadata'] as const)
    if (body[key] !== undefined && !isObject(body[key])) return undefined;
  return Object.assign(new BatchRequestDto(), body);
}

/** A `/v1/batch` body as a validated BatchRequestDto, or the 400 naming the fields at fault. */
export function readBatchBody(body: unknown, quick = true): BatchRequestDto {
  const fast =
    quick && typeof body === 'object' && body !== null && !Array.isArray(body)
      ? quickBatch(body as Record<string, unknown>)
      : undefined;
  return fast ?? validatedBody(BatchRequestDto, body);
}

/** A `/v1/track` body as a validated TrackRequestDto, or the 400 naming the fields at fault. */
export function readTrack(body: unknown, quick = true): TrackRequestDto {
  const fast =
    quick && typeof body === 'object' && body !== null && !Array.isArray(body)
      ? quickTrack(body as Record<string, unknown>)
      : undefined;
  return fast ?? validatedBody(TrackRequestDto, body);
}
