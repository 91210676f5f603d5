import { IsObject, IsOptional, IsString, Length } from 'class-validator';
import { IsTimestamp } from '../tracking/segment-event.dto.js';

/** `POST /api/customers/{id}`: attribute updates for one customer from a back-office system. */
export class CustomerUpdateDto {
  @IsObject() traits!: Record<string, unknown>;
  /** Lets the system retry an update without it being applied twice. */
  @IsOptional() @IsString() @Length(1, 256) messageId?: string;
  /** When the attributes changed in the back office; now when absent. */
  @IsOptional() @IsTimestamp() timestamp?: string;
  @IsOptional() @IsObject() context?: Record<string, unknown>;
}
