import { Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { inlineCss } from '../rendering/css-inlining.js';
import { textTemplateFromHtml } from '../rendering/email-output.js';
import { TemplateEngine } from '../rendering/template-engine.js';
import { type EmailTemplate } from './email-template.js';
import { PartialsRepository } from './partials.repository.js';
import { resolveVersion } from './resolve-partials.js';
import { TemplatesRepository, type TemplateVersionView } from './templates.repository.js';

/**
 * Publishes a version: its layout and partials resolved (as they are now), lint passed, CSS inlined —
 * all once, so sends render the stored result. A version that fails lint stays a draft (422).
 */
@Injectable()
export class PublishTemplateUseCase {
  constructor(
    private readonly templates: TemplatesRepository,
    private readonly partials: PartialsRepository,
    private readonly engine: TemplateEngine,
  ) {}

  async execute(templateId: string, version: number): Promise<TemplateVersionView> {
    const found = await this.templates.findAnyVersion(templateId, version);
    if (!found) {
      throw new NotFoundException({
        error: 'not_found',
        message: `no version ${version} of "${templateId}"`,
      });
    }
    const { resolved, used, problems } = resolveVersion(found, await this.partials.byName());
    if (problems.length === 0) problems.push(...this.engine.check(resolved));
    const inlined = problems.length === 0 ? inlineCss(resolved.html) : resolved.html;
    if (problems.length === 0) {
      problems.push(
        ...this.engine
          .check({ ...resolved, html: inlined })
          .map((problem) => `after CSS inlining: ${problem}`),
      );
    }
    if (problems.length > 0) {
      throw new UnprocessableEntityException({
        error: 'lint_failed',
        message: 'the template cannot be published',
        problems,
      });
    }
    const text = resolved.text.trim() ? undefined : this.textTemplateOf({ ...resolved, html: inlined });
    const published = {
      subject: resolved.subject,
      html: inlined,
      text: text ?? resolved.text,
      partials: Object.fromEntries(used),
      ...(text ? { textFromHtml: true as const } : {}),
    };
    return (await this.templates.markPublished(templateId, version, published)) ?? found;
  }

  /**
   * A version without a text part gets one made from its html template here, once (see
   * textTemplateFromHtml); when that cannot be done safely, its renders convert their html.
   */
  private textTemplateOf(template: EmailTemplate): string | undefined {
    const text = textTemplateFromHtml(template.html);
    if (text === undefined || this.engine.check({ ...template, text }).length > 0) return undefined;
    return text;
  }
}
