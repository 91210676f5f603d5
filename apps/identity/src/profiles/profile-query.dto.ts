import { IsOptional, IsString, Length, Matches } from 'class-validator';

export class ProfileIdParams {
  @IsString()
  @Length(1, 128)
  @Matches(/^[A-Za-z0-9._:-]+$/, { message: 'id must be a profile id' })
  id!: string;
}

/** Exactly one of the identifiers to resolve. */
export class ProfileLookupQuery {
  @IsOptional() @IsString() @Length(1, 254) email?: string;
  @IsOptional() @IsString() @Length(1, 512) userId?: string;
}
