import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import { type ServiceName } from '@mesh/contracts';
import { SourceRateLimitGuard } from '../rate-limit/source-rate-limit.guard.js';
import { CurrentSource } from '../sources/current-source.decorator.js';
import { type Source } from '../sources/source.js';
import { WriteKeyGuard } from '../sources/write-key.guard.js';
import { type EraseReceipt, EraseRequestsRepository } from './erase-requests.repository.js';
import { ConsentRequestDto, EraseRequestDto } from './privacy.dto.js';
import { RecordConsentUseCase } from './record-consent.usecase.js';
import { RequestErasureUseCase } from './request-erasure.usecase.js';

export const ERASING_SERVICES = Symbol('ERASING_SERVICES');

export interface EraseStatus {
  requestId: string;
  requestedAt: string;
  complete: boolean;
  confirmed: ({ service: ServiceName } & EraseReceipt)[];
  pending: ServiceName[];
}

/** Consent statements and erasure requests, authenticated with the source's write key. */
@Controller('v1')
@UseGuards(WriteKeyGuard, SourceRateLimitGuard)
export class PrivacyController {
  constructor(
    private readonly recordConsent: RecordConsentUseCase,
    private readonly requestErasure: RequestErasureUseCase,
    private readonly requests: EraseRequestsRepository,
    @Inject(ERASING_SERVICES) private readonly erasingServices: ServiceName[],
  ) {}

  @Post('consent')
  @HttpCode(200)
  async consent(
    @Body() body: ConsentRequestDto,
    @CurrentSource() source: Source,
  ): Promise<{ success: true }> {
    await this.recordConsent.execute(source, body, new Date());
    return { success: true };
  }

  @Post('privacy/erase')
  @HttpCode(202)
  async erase(
    @Body() body: EraseRequestDto,
    @CurrentSource() source: Source,
  ): Promise<{ requestId: string }> {
    return { requestId: await this.requestErasure.execute(source, body, new Date()) };
  }

  /** Which services have confirmed the erasure and which are still pending; only for the requesting source. */
  @Get('privacy/erase/:requestId')
  async status(@Param('requestId') requestId: string, @CurrentSource() source: Source): Promise<EraseStatus> {
    const request = await this.requests.find(requestId);
    if (request?.sourceId !== source.id)
      throw new NotFoundException({
        error: 'not_found',
        message: `no erasure request ${requestId} from this source`,
      });
    const confirmed = Object.entries(request.receipts).map(([service, receipt]) => ({
      service: service as ServiceName,
      ...receipt,
    }));
    const pending = this.erasingServices.filter((service) => request.receipts[service] === undefined);
    return {
      requestId,
      requestedAt: request.requestedAt.toISOString(),
      complete: request.publishedAt !== undefined && pending.length === 0,
      confirmed,
      pending,
    };
  }
}
