import { Type } from 'class-transformer';
import {
  IsIn,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Length,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

/** Fields every ingested event shares, named as in Segment's tracking spec. */
export abstract class IngestedEventBase {
  @IsString() @Length(1, 256) messageId!: string;
  @ValidateIf((event: IngestedEventBase) => event.anonymousId === undefined)
  @IsString()
  @Length(1, 256)
  userId?: string;
  @IsOptional() @IsString() @Length(1, 256) anonymousId?: string;
  @IsOptional() @IsObject() context?: Record<string, unknown>;
  @IsOptional() @IsObject() integrations?: Record<string, unknown>;
}

export class TrackPayload extends IngestedEventBase {
  @IsString() @Length(1, 256) event!: string;
  @IsObject() properties!: Record<string, unknown>;
}

export class IdentifyPayload extends IngestedEventBase {
  @IsObject() traits!: Record<string, unknown>;
}

export class PagePayload extends IngestedEventBase {
  @IsOptional() @IsString() @Length(1, 512) name?: string;
  @IsOptional() @IsString() @Length(1, 256) category?: string;
  @IsObject() properties!: Record<string, unknown>;
}

export class ScreenPayload extends PagePayload {}

export class GroupPayload extends IngestedEventBase {
  @IsString() @Length(1, 256) groupId!: string;
  @IsObject() traits!: Record<string, unknown>;
}

export class AliasPayload extends IngestedEventBase {
  @IsString() @Length(1, 256) previousId!: string;
}

/** Attribute updates for one customer from a back-office system. */
export class ProfilePayload extends IngestedEventBase {
  @IsObject() traits!: Record<string, unknown>;
}

export class ConsentStatementDto {
  @IsIn(['email']) channel!: 'email';
  @IsIn(['opted_in', 'opted_out']) status!: 'opted_in' | 'opted_out';
  @IsString() @Length(1, 256) source!: string;
  @IsISO8601({ strict: true }) at!: string;
}

export class ConsentPayload extends IngestedEventBase {
  @ValidateNested() @Type(() => ConsentStatementDto) consent!: ConsentStatementDto;
  @IsOptional() @IsObject() traits?: Record<string, unknown>;
}
