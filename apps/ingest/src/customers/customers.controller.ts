import { BadRequestException, Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { SourceRateLimitGuard } from '../rate-limit/source-rate-limit.guard.js';
import { CurrentSource } from '../sources/current-source.decorator.js';
import { type Source } from '../sources/source.js';
import { WriteKeyGuard } from '../sources/write-key.guard.js';
import { AcceptEventUseCase } from '../tracking/accept-event.usecase.js';
import { assertEventSize } from '../tracking/batch.js';
import { CustomerUpdateDto } from './customer-update.dto.js';

/** A back-office system's attribute update for one customer becomes an identify for that user id. */
@Controller('api/customers')
@UseGuards(WriteKeyGuard, SourceRateLimitGuard)
export class CustomersController {
  constructor(private readonly accept: AcceptEventUseCase) {}

  @Post(':id')
  @HttpCode(200)
  async update(
    @Param('id') userId: string,
    @Body() update: CustomerUpdateDto,
    @CurrentSource() source: Source,
  ): Promise<{ success: true }> {
    if (userId.length > 256)
      throw new BadRequestException({
        error: 'invalid_request',
        message: 'the request is not valid',
        fields: { id: ['id must be at most 256 characters'] },
      });
    assertEventSize(update);
    await this.accept.execute({
      type: 'identify',
      source,
      event: {
        userId,
        traits: update.traits,
        ...(update.messageId === undefined ? {} : { messageId: update.messageId }),
        ...(update.timestamp === undefined ? {} : { timestamp: update.timestamp }),
        ...(update.context === undefined ? {} : { context: update.context }),
      },
      receivedAt: new Date(),
    });
    return { success: true };
  }
}
