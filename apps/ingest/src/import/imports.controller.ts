import {
  BadRequestException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import { type FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { SourceRateLimitGuard } from '../rate-limit/source-rate-limit.guard.js';
import { CurrentSource } from '../sources/current-source.decorator.js';
import { type Source } from '../sources/source.js';
import { WriteKeyGuard } from '../sources/write-key.guard.js';
import { type ImportJob, ImportJobsRepository, type RowError } from './import-jobs.repository.js';
import { ImportRequestDto } from './import-request.dto.js';
import { DEFAULT_MAPPING } from './import-rows.js';
import { RunImportUseCase } from './run-import.usecase.js';

/** Batch import of CSV/NDJSON exports: the upload is the file, streamed (text/csv or application/x-ndjson). */
@Controller('api/imports')
@UseGuards(WriteKeyGuard, SourceRateLimitGuard)
export class ImportsController {
  constructor(
    private readonly runImport: RunImportUseCase,
    private readonly jobs: ImportJobsRepository,
  ) {}

  @Post()
  @HttpCode(200)
  async upload(
    @Query() query: ImportRequestDto,
    @Req() request: FastifyRequest,
    @CurrentSource() source: Source,
  ): Promise<ImportJob> {
    if (query.source !== undefined && query.source !== source.id)
      throw new BadRequestException({
        error: 'invalid_request',
        message: 'the request is not valid',
        fields: { source: [`source must be the write key's source (${source.id})`] },
      });
    if (!(request.body instanceof Readable))
      throw new BadRequestException({
        error: 'invalid_request',
        message: 'send the file as the body, with content-type text/csv or application/x-ndjson',
        fields: { body: ['the body must be a CSV or NDJSON file'] },
      });
    return this.runImport.execute({
      source,
      fileId: query.fileId,
      format: query.format,
      input: request.body,
      mapping: {
        type: query.type ?? DEFAULT_MAPPING.type,
        userIdColumn: query.userIdColumn ?? DEFAULT_MAPPING.userIdColumn,
        anonymousIdColumn: query.anonymousIdColumn ?? DEFAULT_MAPPING.anonymousIdColumn,
        timestampColumn: query.timestampColumn ?? DEFAULT_MAPPING.timestampColumn,
        ...(query.eventColumn === undefined ? {} : { eventColumn: query.eventColumn }),
        ...(query.eventName === undefined ? {} : { eventName: query.eventName }),
      },
    });
  }

  @Get(':jobId')
  async status(@Param('jobId') jobId: string, @CurrentSource() source: Source): Promise<ImportJob> {
    return this.ownJob(jobId, source);
  }

  /** The bad rows with their numbers and fields at fault, in row order, a page at a time. */
  @Get(':jobId/errors')
  async errors(
    @Param('jobId') jobId: string,
    @Query('after') after: string | undefined,
    @CurrentSource() source: Source,
  ): Promise<{ errors: RowError[] }> {
    await this.ownJob(jobId, source);
    const afterRow = Number.parseInt(after ?? '0', 10);
    return { errors: await this.jobs.errors(jobId, Number.isNaN(afterRow) ? 0 : afterRow, 1000) };
  }

  private async ownJob(jobId: string, source: Source): Promise<ImportJob> {
    const job = await this.jobs.find(jobId);
    if (job?.sourceId !== source.id)
      throw new NotFoundException({ error: 'not_found', message: `no import job ${jobId} of this source` });
    return job;
  }
}
