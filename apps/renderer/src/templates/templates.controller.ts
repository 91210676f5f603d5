import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { AdminTokenGuard } from '@mesh/runtime';
import { PublishTemplateUseCase } from './publish-template.usecase.js';
import { TemplateDraftDto, TemplateIdDto, TemplateVersionParamsDto } from './template-draft.dto.js';
import {
  TemplatesRepository,
  type TemplateSummary,
  type TemplateVersionView,
} from './templates.repository.js';

/** Templates admin API: drafts are saved as new versions; a version that compiles can be published. */
@Controller('api/templates')
@UseGuards(AdminTokenGuard)
export class TemplatesController {
  constructor(
    private readonly templates: TemplatesRepository,
    private readonly publishing: PublishTemplateUseCase,
  ) {}

  @Get()
  list(): Promise<TemplateSummary[]> {
    return this.templates.list();
  }

  @Post(':templateId/versions')
  @HttpCode(201)
  createDraft(
    @Param() { templateId }: TemplateIdDto,
    @Body() draft: TemplateDraftDto,
  ): Promise<TemplateVersionView> {
    return this.templates.createDraft({
      templateId,
      subject: draft.subject,
      html: draft.html,
      text: draft.text ?? '',
      ...(draft.data ? { data: draft.data } : {}),
      ...(draft.layout ? { layout: draft.layout } : {}),
    });
  }

  @Get(':templateId/versions/:version')
  async version(@Param() { templateId, version }: TemplateVersionParamsDto): Promise<TemplateVersionView> {
    const found = await this.templates.findAnyVersion(templateId, version);
    if (!found)
      throw new NotFoundException({
        error: 'not_found',
        message: `no version ${version} of "${templateId}"`,
      });
    return found;
  }

  /** Publishes a draft that passes lint (see PublishTemplateUseCase); a published version stays as it was. */
  @Post(':templateId/versions/:version/publish')
  @HttpCode(200)
  publish(@Param() { templateId, version }: TemplateVersionParamsDto): Promise<TemplateVersionView> {
    return this.publishing.execute(templateId, version);
  }
}
