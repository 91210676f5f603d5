import { IsISO8601, IsObject, IsOptional, IsString, Length, ValidateIf } from 'class-validator';

/** Fields of Segment's HTTP Tracking API common to every call. */
export abstract class SegmentEventDto {
  @IsOptional() @IsString() @Length(1, 256) messageId?: string;

  @ValidateIf((event: SegmentEventDto) => event.anonymousId === undefined)
  @IsString({ message: 'userId or anonymousId is required' })
  @Length(1, 256)
  userId?: string;

  @IsOptional() @IsString() @Length(1, 256) anonymousId?: string;
  @IsOptional() @IsObject() context?: Record<string, unknown>;
  @IsOptional() @IsObject() integrations?: Record<string, unknown>;
  @IsOptional() @IsISO8601() timestamp?: string;
  @IsOptional() @IsISO8601() sentAt?: string;
  @IsOptional() @IsISO8601() originalTimestamp?: string;
  @IsOptional() @IsString() type?: string;
  @IsOptional() @IsString() writeKey?: string;
}

export class TrackRequestDto extends SegmentEventDto {
  @IsString() @Length(1, 256) event!: string;
  @IsOptional() @IsObject() properties?: Record<string, unknown>;
}

export class IdentifyRequestDto extends SegmentEventDto {
  @IsOptional() @IsObject() traits?: Record<string, unknown>;
}
