import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';

/** Query of `POST /api/imports`: the file's identity, its format and how its rows map to calls. */
export class ImportRequestDto {
  /** Identifies the file (the CLI sends its SHA-256); sending the same file again resumes its job. */
  @IsString() @Matches(/^[A-Za-z0-9._:-]{8,128}$/) fileId!: string;
  @IsIn(['csv', 'ndjson']) format!: 'csv' | 'ndjson';
  /** When given, must be the source the write key belongs to. */
  @IsOptional() @IsString() @Length(1, 128) source?: string;
  @IsOptional() @IsIn(['identify', 'track']) type?: 'identify' | 'track';
  @IsOptional() @IsString() @Length(1, 128) userIdColumn?: string;
  @IsOptional() @IsString() @Length(1, 128) anonymousIdColumn?: string;
  @IsOptional() @IsString() @Length(1, 128) eventColumn?: string;
  @IsOptional() @IsString() @Length(1, 256) eventName?: string;
  @IsOptional() @IsString() @Length(1, 128) timestampColumn?: string;
}
