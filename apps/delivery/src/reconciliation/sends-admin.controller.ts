import {
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ConflictException,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { Type } from 'class-transformer';
import { AdminTokenGuard } from '@mesh/runtime';
import { SendLedgerRepository, type SendRecord, type SendStatus } from '../sending/send-ledger.repository.js';

const STATUSES: SendStatus[] = [
  'sending',
  'needs_review',
  'retryable',
  'sent',
  'bounced',
  'failed',
  'rejected',
];

export class ListSendsQueryDto {
  @IsIn(STATUSES) status!: SendStatus;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

export class ResolveSendDto {
  /** What the operator found at the ESP/MTA: the email went out, or it certainly did not. */
  @IsIn(['sent', 'not_sent']) outcome!: 'sent' | 'not_sent';
  @IsOptional() @IsString() @Length(1, 500) note?: string;
}

/**
 * Sends whose outcome is unknown (the process died during SMTP): listed for review and resolved by an
 * operator. After `not_sent`, replaying the dead-lettered rendered email (npm run dlq) sends it;
 * after `sent`, the replay announces it.
 */
@Controller('admin/sends')
@UseGuards(AdminTokenGuard)
export class SendsAdminController {
  constructor(private readonly ledger: SendLedgerRepository) {}

  @Get()
  async list(@Query() query: ListSendsQueryDto): Promise<{ sends: SendRecord[] }> {
    return { sends: await this.ledger.listByStatus(query.status, query.limit ?? 100) };
  }

  @Post(':key/resolve')
  @HttpCode(200)
  async resolve(@Param('key') key: string, @Body() body: ResolveSendDto): Promise<SendRecord> {
    const note = `resolved by an operator: ${body.outcome}${body.note ? ` (${body.note})` : ''}`;
    const changed = await this.ledger.resolveUnknown(
      key,
      body.outcome === 'sent' ? 'sent' : 'retryable',
      note,
    );
    const record = await this.ledger.find(key);
    if (!record) throw new NotFoundException({ error: 'not_found', message: `no send ${key}` });
    if (!changed)
      throw new ConflictException({
        error: 'not_unknown',
        message: `send ${key} is ${record.status}, not unknown`,
      });
    return record;
  }
}
