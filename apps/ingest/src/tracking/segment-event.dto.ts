import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  isISO8601,
  IsObject,
  IsOptional,
  IsString,
  Length,
  ValidateBy,
  type ValidationOptions,
  ValidateIf,
} from 'class-validator';

const RFC3339 =
  /^([1-9]\d{3})-(\d{2})-(\d{2})T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The form nearly every SDK sends (`toISOString()`, RFC 3339), recognised in a tenth of the time of
 * the general ISO-8601 check below; anything it does not take goes to that check. It takes nothing
 * the general check refuses (segment-event.dto.spec.ts).
 */
export function isRfc3339Instant(value: string): boolean {
  const match = RFC3339.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]!) return false;
  return month !== 2 || day !== 29 || (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0));
}

/** An ISO-8601 date-time that is a real instant (not a week date, not 30 February). */
export const isTimestampValue = (value: unknown): value is string =>
  typeof value === 'string' &&
  (isRfc3339Instant(value) ||
    (isISO8601(value, { strict: true, strictSeparator: true }) && !Number.isNaN(Date.parse(value))));

export const IsTimestamp = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isTimestamp',
      validator: {
        validate: isTimestampValue,
        defaultMessage: () => '$property must be an ISO-8601 date and time, e.g. 2026-11-28T10:00:00.000Z',
      },
    },
    options,
  );

/** Fields of Segment's HTTP Tracking API common to every call. */
export abstract class SegmentEventDto {
  @IsOptional() @IsString() @Length(1, 256) messageId?: string;

  @ValidateIf((event: SegmentEventDto) => event.anonymousId == null || event.userId !== undefined)
  @IsString({ message: 'userId or anonymousId is required' })
  @Length(1, 256)
  userId?: string;

  // Present means a string: a null anonymousId is no identifier at all.
  @ValidateIf((event: SegmentEventDto) => event.anonymousId !== undefined)
  @IsString()
  @Length(1, 256)
  anonymousId?: string;
  @IsOptional() @IsObject() context?: Record<string, unknown>;
  @IsOptional() @IsObject() integrations?: Record<string, unknown>;
  @IsOptional() @IsTimestamp() timestamp?: string;
  @IsOptional() @IsTimestamp() sentAt?: string;
  @IsOptional() @IsTimestamp() originalTimestamp?: string;
  @IsOptional() @IsString() type?: string;
  @IsOptional() @IsString() writeKey?: string;
  // What the SDKs add about themselves: accepted so they are not refused, not forwarded.
  @IsOptional() @IsObject() _metadata?: Record<string, unknown>;
  @IsOptional() @IsString() channel?: string;
  @IsOptional() version?: unknown;
}

export class TrackRequestDto extends SegmentEventDto {
  @IsString() @Length(1, 256) event!: string;
  @IsOptional() @IsObject() properties?: Record<string, unknown>;
}

export class IdentifyRequestDto extends SegmentEventDto {
  @IsOptional() @IsObject() traits?: Record<string, unknown>;
}

export class PageRequestDto extends SegmentEventDto {
  @IsOptional() @IsString() @Length(1, 512) name?: string;
  @IsOptional() @IsString() @Length(1, 256) category?: string;
  @IsOptional() @IsObject() properties?: Record<string, unknown>;
}

export class ScreenRequestDto extends PageRequestDto {}

export class GroupRequestDto extends SegmentEventDto {
  @IsString() @Length(1, 256) groupId!: string;
  @IsOptional() @IsObject() traits?: Record<string, unknown>;
}

export class AliasRequestDto extends SegmentEventDto {
  @IsString() @Length(1, 256) previousId!: string;
}

/** The largest event Segment's API accepts, alone or inside a batch. */
export const MAX_EVENT_BYTES = 32 * 1024;

/** `POST /v1/batch`: many calls at once, each with its own `type` (checked one by one). */
export class BatchRequestDto {
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(2500) batch!: unknown[];
  @IsOptional() @IsTimestamp() sentAt?: string;
  @IsOptional() @IsString() writeKey?: string;
  @IsOptional() @IsObject() context?: Record<string, unknown>;
  @IsOptional() @IsObject() integrations?: Record<string, unknown>;
  @IsOptional() @IsObject() _metadata?: Record<string, unknown>;
}
