import { Injectable } from '@nestjs/common';
import {
  ContractViolationError,
  deriveEnvelope,
  parseEnvelope,
  type RecommendedSendPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { type EnvelopeOf, MessagePublisher } from '@mesh/messaging';
import { isEmail } from 'class-validator';
import { TemplatesRepository } from '../templates/templates.repository.js';
import { TemplateEngine } from './template-engine.js';

import { FALLBACK_HELPERS } from './data-fallbacks.js';
import { MissingDataError, RenderAbort, TEMPLATE_HELPERS } from './template-helpers.js';

/**
 * Why a send was not rendered: NO_RECIPIENT, TEMPLATE_NOT_FOUND, RENDER_ERROR (the template threw or
 * its output is not a valid email), MISSING_DATA (it would have printed missing data), or the code a
 * template aborted with (`it.abort(code, reason)`).
 */
type Failure = { code: string; reason: string };

/**
 * What a template sees: the profile's traits at the top (`it.first_name`), named parts, and the
 * helpers (`it.money`, `it.date`, `it.plural`, `it.or`, `it.raw`, `it.abort`, `it.fallback`, `it.has`), which win over traits
 * of the same name.
 */
export function templateData(intent: RecommendedSendPayload): Record<string, unknown> {
  return {
    ...intent.profile.traits,
    traits: intent.profile.traits,
    computed: intent.profile.computed,
    products: intent.recommendations.items,
    trigger: intent.trigger.properties,
    event: intent.trigger.event,
    campaign: { id: intent.campaign.campaignId, name: intent.campaign.name },
    ...TEMPLATE_HELPERS,
    ...FALLBACK_HELPERS,
  };
}

/**
 * The address to send to: the email trait as customers send it (often with stray spaces), when it is
 * an address `renderer.rendered` accepts; otherwise delivery would dead-letter the email as poison.
 */
export function recipientOf(trait: unknown): string | undefined {
  if (typeof trait !== 'string') return undefined;
  const email = trait.trim();
  return isEmail(email) ? email : undefined;
}

function failureOf(error: unknown): Failure {
  const reason = (error instanceof Error ? error.message : String(error)).slice(0, 2000) || 'no reason given';
  if (error instanceof RenderAbort) return { code: error.code.slice(0, 64) || 'ABORTED', reason };
  if (error instanceof MissingDataError) return { code: error.code, reason };
  return { code: 'RENDER_ERROR', reason };
}

/** Renders the campaign's template for one profile; a send that cannot be rendered is reported, not retried. */
@Injectable()
export class RenderEmailUseCase {
  constructor(
    private readonly templates: TemplatesRepository,
    private readonly engine: TemplateEngine,
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
    let parts;
    try {
      parts = this.engine.render(template, templateData(intent));
    } catch (error) {
      return this.fail(envelope, failureOf(error));
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
