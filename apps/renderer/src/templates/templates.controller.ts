import {
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  UnprocessableEntityException,
  UseGuards,
} from '@nestjs/common';
import { inlineCss } from '../rendering/email-output.js';
import { TemplateEngine } from '../rendering/template-engine.js';
import { AdminTokenGuard } from './admin-token.guard.js';
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
    private readonly engine: TemplateEngine,
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

  /** Publishes a draft that passes lint, with its CSS inlined once; publishing a published version again changes nothing. */
  @Post(':templateId/versions/:version/publish')
  @HttpCode(200)
  async publish(@Param() { templateId, version }: TemplateVersionParamsDto): Promise<TemplateVersionView> {
    const found = await this.templates.findAnyVersion(templateId, version);
    if (!found)
      throw new NotFoundException({
        error: 'not_found',
        message: `no version ${version} of "${templateId}"`,
      });
    let problems = this.engine.check(found);
    const htmlInlined = problems.length === 0 ? inlineCss(found.html) : found.html;
    if (problems.length === 0) {
      problems = this.engine
        .check({ ...found, html: htmlInlined })
        .map((problem) => `after CSS inlining: ${problem}`);
    }
    if (problems.length > 0) {
      throw new UnprocessableEntityException({
        error: 'lint_failed',
        message: 'the template cannot be published',
        problems,
      });
    }
    return (await this.templates.markPublished(templateId, version, htmlInlined)) ?? found;
  }
}
