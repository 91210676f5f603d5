import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Min,
  ValidateNested,
} from 'class-validator';
import { SERVICES, type ServiceName } from '../subjects.js';

export class DeadLetterErrorDto {
  @IsString() @Length(1, 256) name!: string;
  @IsString() message!: string;
  @IsOptional() @IsString() code?: string;
  /** False when the message was retried until its last allowed delivery. */
  @IsBoolean() permanent!: boolean;
}

/** `dlq.<service>`: a message its consumer gave up on, with everything needed to replay it. */
export class DeadLetterPayload {
  @IsIn(SERVICES) service!: ServiceName;
  @IsString() consumer!: string;
  @IsString() stream!: string;
  @IsInt() @Min(0) streamSequence!: number;
  @IsString() subject!: string;
  @IsInt() @Min(1) deliveryCount!: number;
  @ValidateNested() @Type(() => DeadLetterErrorDto) error!: DeadLetterErrorDto;
  /** The original NATS headers (trace context, Nats-Msg-Id…). */
  @IsObject() headers!: Record<string, string[]>;
  /** The original message body, as UTF-8 text; cut to a size a dead letter can carry. */
  @IsString() body!: string;
  /** Size of the original body; with `bodySha256`, identifies it when `body` was cut. */
  @IsInt() @Min(0) bodyBytes!: number;
  @IsString() @Length(64, 64) bodySha256!: string;
  @IsBoolean() bodyTruncated!: boolean;
  @IsISO8601({ strict: true }) failedAt!: string;
}
