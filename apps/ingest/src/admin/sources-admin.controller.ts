import { Body, Controller, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AdminTokenGuard } from '@mesh/runtime';
import { type SourceRecord, SourcesRepository } from '../sources/sources.repository.js';
import { CreateSourceDto, UpdateSourceDto } from './source-admin.dto.js';
import {
  type CreatedSource,
  notFound,
  type RotatedCredential,
  SourceCredentialsUseCase,
} from './source-credentials.usecase.js';

/** Sources admin API (`Authorization: Bearer <MESH_ADMIN_TOKEN>`). Keys and secrets are shown once. */
@ApiTags('sources (admin)')
@Controller('api/sources')
@UseGuards(AdminTokenGuard)
export class SourcesAdminController {
  constructor(
    private readonly credentials: SourceCredentialsUseCase,
    private readonly sources: SourcesRepository,
  ) {}

  @Post()
  @HttpCode(201)
  create(@Body() request: CreateSourceDto): Promise<CreatedSource> {
    return this.credentials.create({ ...request, enabled: true });
  }

  @Get()
  async list(): Promise<{ sources: SourceRecord[] }> {
    return { sources: await this.sources.list() };
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<SourceRecord> {
    const source = await this.sources.get(id);
    if (!source) throw notFound(id);
    return source;
  }

  /** Rename, enable or disable (a disabled source's key is refused with 401), set its rate limit or mapping. */
  @Patch(':id')
  async update(@Param('id') id: string, @Body() changes: UpdateSourceDto): Promise<SourceRecord> {
    const source = await this.sources.update(id, changes);
    if (!source) throw notFound(id);
    return source;
  }

  @Post(':id/disable')
  @HttpCode(200)
  async disable(@Param('id') id: string): Promise<SourceRecord> {
    return this.update(id, { enabled: false });
  }

  @Post(':id/enable')
  @HttpCode(200)
  async enable(@Param('id') id: string): Promise<SourceRecord> {
    return this.update(id, { enabled: true });
  }

  @Post(':id/write-key/rotate')
  @HttpCode(200)
  async rotateWriteKey(@Param('id') id: string): Promise<{ writeKey: string; previousValidUntil: string }> {
    const { value, previousValidUntil } = await this.credentials.rotateWriteKey(id);
    return { writeKey: value, previousValidUntil };
  }

  @Post(':id/webhook-secret/rotate')
  @HttpCode(200)
  async rotateWebhookSecret(
    @Param('id') id: string,
  ): Promise<{ webhookSecret: string; previousValidUntil: string }> {
    const { value, previousValidUntil }: RotatedCredential = await this.credentials.rotateWebhookSecret(id);
    return { webhookSecret: value, previousValidUntil };
  }
}
