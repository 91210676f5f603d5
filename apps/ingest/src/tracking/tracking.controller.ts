import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import { SourceRateLimitGuard } from '../rate-limit/source-rate-limit.guard.js';
import { CurrentSource } from '../sources/current-source.decorator.js';
import { type Source } from '../sources/source.js';
import { WriteKeyGuard } from '../sources/write-key.guard.js';
import { type AcceptCommand, AcceptEventUseCase } from './accept-event.usecase.js';
import { assertEventSize, readBatch } from './batch.js';
import { readBatchBody, readTrack } from './quick-track.js';
import {
  AliasRequestDto,
  BatchRequestDto,
  GroupRequestDto,
  IdentifyRequestDto,
  PageRequestDto,
  ScreenRequestDto,
  TrackRequestDto,
} from './segment-event.dto.js';

type Success = { success: true };

/**
 * Segment-compatible tracking calls; the answer is Segment's. Each call also answers on the
 * one-letter path Segment's browser SDK posts to (`/v1/t`, `/v1/i`, …).
 */
@Controller('v1')
@UseGuards(WriteKeyGuard, SourceRateLimitGuard)
export class TrackingController {
  constructor(private readonly accept: AcceptEventUseCase) {}

  /**
   * Server SDKs' `/v1/batch` and the browser SDK's `/v1/b`: accepted whole once every call is stored.
   * Its body is checked by readBatchBody and readBatch (same rules and 400s as the global pipe's).
   */
  @Post(['batch', 'b'])
  @HttpCode(200)
  @ApiBody({ type: BatchRequestDto })
  async batch(@Body() body: unknown, @CurrentSource() source: Source): Promise<Success> {
    const receivedAt = new Date();
    const calls = readBatch(readBatchBody(body));
    await this.accept.executeMany(calls.map((call) => ({ ...call, source, receivedAt }) as AcceptCommand));
    return { success: true };
  }

  /** The busiest call: its body is checked by readTrack (same rules and 400s, less CPU), not the global pipe. */
  @Post(['track', 't'])
  @HttpCode(200)
  @ApiBody({ type: TrackRequestDto })
  async track(@Body() body: unknown, @CurrentSource() source: Source): Promise<Success> {
    const event = readTrack(body);
    assertEventSize(event);
    await this.accept.execute({ type: 'track', source, event, receivedAt: new Date() });
    return { success: true };
  }

  @Post(['identify', 'i'])
  @HttpCode(200)
  async identify(@Body() event: IdentifyRequestDto, @CurrentSource() source: Source): Promise<Success> {
    assertEventSize(event);
    await this.accept.execute({ type: 'identify', source, event, receivedAt: new Date() });
    return { success: true };
  }

  @Post(['page', 'p'])
  @HttpCode(200)
  async page(@Body() event: PageRequestDto, @CurrentSource() source: Source): Promise<Success> {
    assertEventSize(event);
    await this.accept.execute({ type: 'page', source, event, receivedAt: new Date() });
    return { success: true };
  }

  @Post(['screen', 's'])
  @HttpCode(200)
  async screen(@Body() event: ScreenRequestDto, @CurrentSource() source: Source): Promise<Success> {
    assertEventSize(event);
    await this.accept.execute({ type: 'screen', source, event, receivedAt: new Date() });
    return { success: true };
  }

  @Post(['group', 'g'])
  @HttpCode(200)
  async group(@Body() event: GroupRequestDto, @CurrentSource() source: Source): Promise<Success> {
    assertEventSize(event);
    await this.accept.execute({ type: 'group', source, event, receivedAt: new Date() });
    return { success: true };
  }

  @Post(['alias', 'a'])
  @HttpCode(200)
  async alias(@Body() event: AliasRequestDto, @CurrentSource() source: Source): Promise<Success> {
    assertEventSize(event);
    await this.accept.execute({ type: 'alias', source, event, receivedAt: new Date() });
    return { success: true };
  }
}
