import { createInterface } from 'node:readline';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { fieldErrors } from '@mesh/runtime';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { parse } from 'csv-parse';
import { type AcceptCommand } from '../tracking/accept-event.usecase.js';
import { isIdString } from '../tracking/quick-track.js';
import { IdentifyRequestDto, isTimestampValue, TrackRequestDto } from '../tracking/segment-event.dto.js';

export type ImportFormat = 'csv' | 'ndjson';

/** How a row becomes a call: which columns hold the ids, the event name and the time; the rest are traits/properties. */
export interface ImportMapping {
  type: 'identify' | 'track';
  userIdColumn: string;
  anonymousIdColumn: string;
  /** Track: the column with the event name, or a fixed name for every row. */
  eventColumn?: string;
  eventName?: string;
  timestampColumn: string;
}

export const DEFAULT_MAPPING: ImportMapping = {
  type: 'identify',
  userIdColumn: 'userId',
  anonymousIdColumn: 'anonymousId',
  timestampColumn: 'timestamp',
};

export type ParsedRow = { row: number; value: Record<string, unknown> } | { row: number; error: string };

/** Rows of a CSV (header line first) or NDJSON stream, numbered from 1, one at a time. */
export async function* readRows(upload: Readable, format: ImportFormat): AsyncGenerator<ParsedRow> {
  // pipeline, not pipe: an upload cut off midway must end the reading with an error, not leave it waiting.
  const ignore = () => undefined;
  if (format === 'csv') {
    const parser = parse({ columns: true, bom: true, skip_empty_lines: true, relax_column_count: true });
    pipeline(upload, parser, ignore);
    let row = 0;
    for await (const record of parser) yield { row: ++row, value: record as Record<string, unknown> };
    return;
  }
  const input = new PassThrough();
  pipeline(upload, input, ignore);
  let row = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    row++;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        yield { row, error: 'the line is not a JSON object' };
      else yield { row, value: value as Record<string, unknown> };
    } catch {
      yield { row, error: 'the line is not valid JSON' };
    }
  }
}

type MappedEvent = Pick<AcceptCommand, 'type' | 'event'>;

/** One row as a validated call, or the fields at fault. */
export function mapRow(
  value: Record<string, unknown>,
  mapping: ImportMapping,
  messageId: string,
  /** False: always through class-validator (the tests compare both ways). */
  quick = true,
): { call: MappedEvent } | { errors: Record<string, string[]> } {
  const rest: Record<string, unknown> = {};
  const special = new Set([
    mapping.userIdColumn,
    mapping.anonymousIdColumn,
    mapping.timestampColumn,
    mapping.eventColumn,
  ]);
  for (const [key, field] of Object.entries(value)) {
    if (special.has(key) || field === '' || field === undefined) continue;
    rest[key] = field;
  }
  const present = (column: string | undefined) => {
    const field = column === undefined ? undefined : value[column];
    return field === '' || field === null ? undefined : field;
  };
  const base = {
    messageId,
    ...(present(mapping.userIdColumn) === undefined ? {} : { userId: present(mapping.userIdColumn) }),
    ...(present(mapping.anonymousIdColumn) === undefined
      ? {}
      : { anonymousId: present(mapping.anonymousIdColumn) }),
    ...(present(mapping.timestampColumn) === undefined
      ? {}
      : { timestamp: present(mapping.timestampColumn) }),
  };
  const fast = quick ? quickCall(base, mapping, rest, present) : undefined;
  if (fast) return { call: fast };
  if (mapping.type === 'track') {
    const event = plainToInstance(TrackRequestDto, {
      ...base,
      event: mapping.eventName ?? present(mapping.eventColumn),
      properties: rest,
    });
    const errors = validateSync(event);
    return errors.length > 0 ? { errors: fieldErrors(errors) } : { call: { type: 'track', event } };
  }
  const event = plainToInstance(IdentifyRequestDto, { ...base, traits: rest });
  const errors = validateSync(event);
  return errors.length > 0 ? { errors: fieldErrors(errors) } : { call: { type: 'identify', event } };
}

/**
 * The usual row checked by hand (class-validator costs about as much as publishing the row): a
 * row it passes is valid for the DTO, and anything else goes through class-validator, which names
 * the fields at fault. import-rows.spec.ts checks that both agree.
 */
function quickCall(
  base: { messageId: string; userId?: unknown; anonymousId?: unknown; timestamp?: unknown },
  mapping: ImportMapping,
  rest: Record<string, unknown>,
  present: (column: string | undefined) => unknown,
): MappedEvent | undefined {
  if (base.messageId.length > 256) return undefined;
  if (base.userId === undefined && base.anonymousId === undefined) return undefined;
  if (base.userId !== undefined && !isIdString(base.userId)) return undefined;
  if (base.anonymousId !== undefined && !isIdString(base.anonymousId)) return undefined;
  if (base.timestamp !== undefined && !isTimestampValue(base.timestamp)) return undefined;
  if (mapping.type === 'track') {
    const name = mapping.eventName ?? present(mapping.eventColumn);
    if (!isIdString(name)) return undefined;
    return {
      type: 'track',
      event: Object.assign(new TrackRequestDto(), base, { event: name, properties: rest }),
    };
  }
  return { type: 'identify', event: Object.assign(new IdentifyRequestDto(), base, { traits: rest }) };
}
