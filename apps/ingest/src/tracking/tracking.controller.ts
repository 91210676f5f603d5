import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { CurrentSource } from '../sources/current-source.decorator.js';
import { type Source } from '../sources/source.js';
import { WriteKeyGuard } from '../sources/write-key.guard.js';
import { AcceptEventUseCase } from './accept-event.usecase.js';
import { IdentifyRequestDto, TrackRequestDto } from './segment-event.dto.js';

/** Segment-compatible tracking calls; the answer is Segment's. */
@Controller('v1')
@UseGuards(WriteKeyGuard)
export class TrackingController {
  constructor(private readonly accept: AcceptEventUseCase) {}

  @Post('track')
  @HttpCode(200)
  async track(@Body() event: TrackRequestDto, @CurrentSource() source: Source): Promise<{ success: true }> {
    await this.accept.execute({ type: 'track', source, event, receivedAt: new Date() });
    return { success: true };
  }

  @Post('identify')
  @HttpCode(200)
  async identify(
    @Body() event: IdentifyRequestDto,
    @CurrentSource() source: Source,
  ): Promise<{ success: true }> {
    await this.accept.execute({ type: 'identify', source, event, receivedAt: new Date() });
    return { success: true };
  }
}
