import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  UnprocessableEntityException,
  UseGuards,
} from '@nestjs/common';
import { AdminTokenGuard } from '@mesh/runtime';
import { inlineCss } from '../rendering/css-inlining.js';
import { type RenderInput } from '../rendering/render-input.js';
import { type RenderOutcome } from '../rendering/render-outcome.js';
import { RenderPool } from '../rendering/render-pool.js';
import { type EmailTemplate } from '../templates/email-template.js';
import { TemplateIdDto } from '../templates/template-draft.dto.js';
import { PartialsRepository } from '../templates/partials.repository.js';
import { resolveVersion } from '../templates/resolve-partials.js';
import { TemplatesRepository } from '../templates/templates.repository.js';
import { PREVIEW_PAGE } from './preview-page.js';
import { type PreviewSample, PreviewSamplesRepository } from './preview-samples.repository.js';
import {
  PREVIEW_DATA_FIELDS,
  PreviewRequestDto,
  PreviewSampleDto,
  type SampleDataDto,
  SampleIdDto,
} from './preview.dto.js';

function inputOf(sample: SampleDataDto): RenderInput {
  return {
    traits: sample.traits,
    computed: sample.computed ?? {},
    products: sample.products ?? [],
    trigger: sample.trigger ?? {},
    event: sample.event ?? 'Preview',
    campaign: { id: 'preview', name: 'Preview' },
  };
}

/**
 * Previews: a version rendered in the worker pool for a stored sample, the sample stored for a
 * profile id, or sample data, with the fallbacks that fired. Renderer reads no profiles (no read path
 * to identity or enrichment over NATS), so samples are posted here, optionally tagged with the profile
 * they came from.
 */
@Controller()
export class PreviewController {
  constructor(
    private readonly templates: TemplatesRepository,
    private readonly partials: PartialsRepository,
    private readonly samples: PreviewSamplesRepository,
    private readonly pool: RenderPool,
  ) {}

  /** The preview page: a static shell; it asks for the admin token and calls the API with it. */
  @Get('preview')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header(
    'content-security-policy',
    "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-src 'self'; img-src * data:",
  )
  page(): string {
    return PREVIEW_PAGE;
  }

  @Get('api/preview-samples')
  @UseGuards(AdminTokenGuard)
  list(): Promise<PreviewSample[]> {
    return this.samples.list();
  }

  @Put('api/preview-samples/:sampleId')
  @UseGuards(AdminTokenGuard)
  async save(@Param() { sampleId }: SampleIdDto, @Body() sample: PreviewSampleDto): Promise<PreviewSample> {
    const stored: PreviewSample = {
      sampleId,
      ...(sample.profileId ? { profileId: sample.profileId } : {}),
      input: inputOf(sample),
    };
    await this.samples.save(stored);
    return stored;
  }

  @Post('api/templates/:templateId/preview')
  @UseGuards(AdminTokenGuard)
  @HttpCode(200)
  async preview(
    @Param() { templateId }: TemplateIdDto,
    @Body() request: PreviewRequestDto,
  ): Promise<{ templateId: string; version: number } & RenderOutcome> {
    const template =
      request.version === undefined
        ? await this.templates.findLatest(templateId)
        : ((await this.templates.findVersion(templateId, request.version)) ??
          (await this.draftOf(templateId, request.version)));
    if (!template) {
      throw new NotFoundException({ error: 'not_found', message: `no such version of "${templateId}"` });
    }
    const input = await this.inputFor(request);
    return { templateId, version: template.version, ...(await this.pool.render(template, input)) };
  }

  /**
   * The data of a preview. A profile id names the sample stored for that profile: renderer reads no
   * profiles (services share no databases and have no request/reply over NATS; send intents carry
   * their snapshot), so a profile is previewed from the sample an admin stored for it.
   */
  private async inputFor(request: PreviewRequestDto): Promise<RenderInput> {
    const given = PREVIEW_DATA_FIELDS.filter((field) => request[field] !== undefined);
    if (given.length > 1) {
      throw new BadRequestException({
        error: 'invalid_request',
        message: `give one of sampleId, profileId or sample, not ${given.join(' and ')}`,
      });
    }
    if (request.sampleId !== undefined) {
      const sample = await this.samples.find(request.sampleId);
      if (!sample) {
        throw new NotFoundException({
          error: 'not_found',
          message: `no preview sample "${request.sampleId}"`,
        });
      }
      return sample.input;
    }
    if (request.profileId !== undefined) {
      const sample = await this.samples.findByProfile(request.profileId);
      if (!sample) {
        throw new NotFoundException({
          error: 'not_found',
          message:
            `no preview sample stored for profile "${request.profileId}"; renderer reads no profiles: ` +
            'store one with PUT /api/preview-samples/{sampleId} {"profileId": ..., "traits": ...}',
        });
      }
      return sample.input;
    }
    return inputOf(request.sample ?? { traits: {} });
  }

  /**
   * A draft as it would be sent once published: its layout and partials put in (as they are now)
   * and its CSS inlined; a layout or partial it names that is not registered is a 422.
   */
  private async draftOf(templateId: string, version: number): Promise<EmailTemplate | undefined> {
    const draft = await this.templates.findAnyVersion(templateId, version);
    if (!draft) return undefined;
    const { resolved, problems } = resolveVersion(draft, await this.partials.byName());
    if (problems.length > 0) {
      throw new UnprocessableEntityException({
        error: 'lint_failed',
        message: 'the draft cannot be previewed',
        problems,
      });
    }
    return { ...resolved, html: inlineCss(resolved.html), draft: true };
  }
}
