import { Body, Controller, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AdminTokenGuard } from '@mesh/runtime';
import { type SourceRecord, SourcesRepository } from '../sources/sources.repository.js';
import { type WebhookMapping } from '../webhooks/webhook-mapping.js';
import { normalizeWebhookMapping } from '../webhooks/webhook-mapping-check.js';
import { CreateSourceDto, UpdateSourceDto } from './source-admin.dto.js';
import {
  type CreatedSource,
  notFound,
  type RotatedCredential,
  SourceCredentialsUseCase,
} from './source-credentials.usecase.js';

/** A built-in mapping by name, or a custom one (already checked by the DTO) with its defaults filled in. */
const mappingToStore = (mapping: string | Record<string, unknown>): string | WebhookMapping =>
  typeof mapping === 'string' ? mapping : normalizeWebhookMapping(mapping);

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
    const { webhookMapping, ...rest } = request;
    return this.credentials.create({
      ...rest,
      ...(webhookMapping === undefined ? {} : { webhookMapping: mappingToStore(webhookMapping) }),
      enabled: true,
    });
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
    const { webhookMapping, ...rest } = changes;
    const source = await this.sources.update(id, {
      ...rest,
      ...(webhookMapping === undefined ? {} : { webhookMapping: mappingToStore(webhookMapping) }),
    });
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
