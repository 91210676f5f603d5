import { IsEmail, IsIn, IsOptional, IsString, Length, ValidateIf } from 'class-validator';
import { IsTimestamp } from '../tracking/segment-event.dto.js';

/** `POST /v1/consent`: one person's statement about one channel; the newest statement wins. */
export class ConsentRequestDto {
  @IsOptional() @IsString() @Length(1, 256) messageId?: string;

  @ValidateIf((body: ConsentRequestDto) => body.anonymousId === undefined)
  @IsString({ message: 'userId or anonymousId is required' })
  @Length(1, 256)
  userId?: string;

  @IsOptional() @IsString() @Length(1, 256) anonymousId?: string;
  /** Lets identity join the statement to the profile holding this address. */
  @IsOptional() @IsEmail() email?: string;
  @IsIn(['email']) channel!: 'email';
  @IsIn(['opted_in', 'opted_out']) status!: 'opted_in' | 'opted_out';
  /** Where the person said it (e.g. `preference-center`); the source's id when absent. */
  @IsOptional() @IsString() @Length(1, 256) source?: string;
  /** When the person said it; now when absent. */
  @IsOptional() @IsTimestamp() at?: string;
}

/** `POST /v1/privacy/erase`: erase one person, known by user id or e-mail address. */
export class EraseRequestDto {
  /** The caller's own id for the request, so a retried request is the same request. */
  @IsOptional() @IsString() @Length(8, 128) requestId?: string;

  @ValidateIf((body: EraseRequestDto) => body.email === undefined)
  @IsString({ message: 'userId or email is required' })
  @Length(1, 256)
  userId?: string;

  @IsOptional() @IsEmail() email?: string;
}
