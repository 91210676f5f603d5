import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  ValidateNested,
} from 'class-validator';
import { IdentifierDto } from '../identity/identity-events.dto.js';
import { SERVICES, type ServiceName } from '../subjects.js';

export class EraseRequestedPayload {
  @IsString() @Length(1, 128) requestId!: string;
  @IsArray()
  @ArrayMaxSize(64)
  @ValidateNested({ each: true })
  @Type(() => IdentifierDto)
  identifiers!: IdentifierDto[];
  @IsOptional() @IsString({ each: true }) profileIds?: string[];
}

export class EraseDonePayload {
  @IsString() @Length(1, 128) requestId!: string;
  @IsIn(SERVICES) service!: ServiceName;
  /** How many records of each kind the service removed. */
  @IsObject() removed!: Record<string, number>;
  @IsInt() durationMs!: number;
}
