import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Put,
  UseGuards,
} from '@nestjs/common';
import { IsEmail, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { AdminTokenGuard } from '@mesh/runtime';
import { type Suppression, SUPPRESSION_REASONS, SuppressionRepository } from './suppression.repository.js';

export class AddSuppressionDto {
  @IsEmail() email!: string;
  /** `manual` unless an operator records another cause (e.g. a complaint received by phone). */
  @IsOptional() @IsIn(SUPPRESSION_REASONS.filter((reason) => reason !== 'erased')) reason?: Exclude<
    Suppression['reason'],
    'erased'
  >;
  @IsOptional() @IsString() @Length(1, 500) note?: string;
}

export class EmailParamDto {
  @IsEmail() email!: string;
}

/** The suppression list for operators: manual entries, look-ups, removals. */
@Controller('admin/suppressions')
@UseGuards(AdminTokenGuard)
export class SuppressionsAdminController {
  constructor(private readonly suppressions: SuppressionRepository) {}

  @Put()
  @HttpCode(200)
  async add(@Body() body: AddSuppressionDto): Promise<Suppression> {
    await this.suppressions.add(body.email, {
      reason: body.reason ?? 'manual',
      source: 'admin',
      at: new Date(),
      ...(body.note ? { note: body.note } : {}),
    });
    return (await this.suppressions.find(body.email))!;
  }

  @Get(':email')
  async find(@Param() params: EmailParamDto): Promise<Suppression> {
    const found = await this.suppressions.find(params.email);
    if (!found) throw new NotFoundException({ error: 'not_found', message: 'the address is not suppressed' });
    return found;
  }

  @Delete(':email')
  @HttpCode(204)
  async remove(@Param() params: EmailParamDto): Promise<void> {
    if (!(await this.suppressions.remove(params.email)))
      throw new NotFoundException({ error: 'not_found', message: 'the address is not suppressed' });
  }
}
