import { Inject, Injectable, Logger } from '@nestjs/common';
import { ContractViolationError, deriveEnvelope, parseEnvelope, SUBJECTS } from '@mesh/contracts';
import { type EnvelopeOf, MessagePublisher } from '@mesh/messaging';
import { isEmail } from 'class-validator';
import { RendererEnv } from '../config.js';
import { TemplatesRepository } from '../templates/templates.repository.js';
import { renderInputOf } from './render-input.js';
import { RenderPool } from './render-pool.js';

/**
 * Why a send was not rendered: NO_RECIPIENT, TEMPLATE_NOT_FOUND, or a render failure (RENDER_ERROR,
 * MISSING_DATA, TIMEOUT, or the code a template or its declared fallback aborted with).
 */
type Failure = { code: string; reason: string };

/**
 * The address to send to: the email trait as customers send it (often with stray spaces), when it is
 * an address `renderer.rendered` accepts; otherwise delivery would dead-letter the email as poison.
 */
export function recipientOf(trait: unknown): string | undefined {
  if (typeof trait !== 'string') return undefined;
  const email = trait.trim();
  return isEmail(email) ? email : undefined;
}

/** Renders the campaign's template for one profile; a send that cannot be rendered is reported, not retried. */
@Injectable()
export class RenderEmailUseCase {
  private readonly logger = new Logger(RenderEmailUseCase.name);

  constructor(
    @Inject(RendererEnv) private readonly env: RendererEnv,
    private readonly templates: TemplatesRepository,
    private readonly pool: RenderPool,
    private readonly publisher: MessagePublisher,
  ) {}

  async execute(envelope: EnvelopeOf<'recommendation.attached'>): Promise<void> {
    const intent = envelope.data;
    const email = recipientOf(intent.profile.traits.email);
    if (!email) {
      return this.fail(envelope, { code: 'NO_RECIPIENT', reason: 'the profile has no valid email address' });
    }
    const { templateId, templateVersion } = intent.campaign;
    const template =
      templateVersion === undefined
        ? await this.templates.findLatest(templateId)
        : await this.templates.findVersion(templateId, templateVersion);
    if (!template) {
      const version = templateVersion === undefined ? '' : ` v${templateVersion}`;
      return this.fail(envelope, {
        code: 'TEMPLATE_NOT_FOUND',
        reason: `no published template "${templateId}"${version}`,
      });
    }
    const parts = await this.pool.render(template, renderInputOf(intent));
    if (!parts.ok) return this.fail(envelope, { code: parts.code, reason: parts.reason });
    const htmlBytes = Buffer.byteLength(parts.html);
    if (htmlBytes > this.env.RENDER_HTML_CLIP_BYTES) {
      const reason = `the html is ${htmlBytes} bytes; Gmail clips html over ${this.env.RENDER_HTML_CLIP_BYTES} bytes`;
      if (this.env.RENDER_OVERSIZE_HTML === 'fail')
        return this.fail(envelope, { code: 'HTML_TOO_LARGE', reason });
      this.logger.warn(`${template.templateId} v${template.version}: ${reason}`);
    }
    const recipient = Object.fromEntries(
      ['timezone', 'locale']
        .filter((key) => intent.profile.traits[key] !== undefined)
        .map((key) => [key, intent.profile.traits[key]]),
    );
    const rendered = deriveEnvelope(envelope, {
      stage: SUBJECTS.renderer.rendered,
      type: 'email.rendered',
      data: {
        campaign: intent.campaign,
        triggerKey: intent.triggerKey,
        template: { id: template.templateId, version: template.version },
        to: email,
        subject: parts.subject,
        html: parts.html,
        text: parts.text,
        recipient,
        ...(parts.fallbacks.length > 0 ? { fallbacks: parts.fallbacks } : {}),
      },
    });
    // What a template produced is data like any other: an email delivery would refuse (an empty
    // subject, say) is reported here, where the template is, not dead-lettered downstream.
    try {
      parseEnvelope(SUBJECTS.renderer.rendered, rendered);
    } catch (error) {
      if (!(error instanceof ContractViolationError)) throw error;
      const problems = error.violations.map(
        (violation) => `${violation.path}: ${violation.problems.join('; ')}`,
      );
      return this.fail(envelope, {
        code: 'RENDER_ERROR',
        reason: `the rendered email is not valid: ${problems.join(' | ')}`.slice(0, 2000),
      });
    }
    await this.publisher.publish(SUBJECTS.renderer.rendered, rendered);
  }

  private async fail(envelope: EnvelopeOf<'recommendation.attached'>, failure: Failure): Promise<void> {
    await this.publisher.publish(
      SUBJECTS.renderer.failed,
      deriveEnvelope(envelope, {
        stage: SUBJECTS.renderer.failed,
        type: 'email.render_failed',
        data: { campaign: envelope.data.campaign, triggerKey: envelope.data.triggerKey, ...failure },
      }),
    );
  }
}
