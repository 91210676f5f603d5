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

type Failure = { code: 'NO_RECIPIENT' | 'TEMPLATE_NOT_FOUND' | 'RENDER_ERROR'; reason: string };

/** What a template sees: the profile's traits at the top (`it.first_name`), and named parts. */
export function templateData(intent: RecommendedSendPayload): Record<string, unknown> {
  return {
    ...intent.profile.traits,
    traits: intent.profile.traits,
    computed: intent.profile.computed,
    products: intent.recommendations.items,
    trigger: intent.trigger.properties,
    event: intent.trigger.event,
    campaign: { id: intent.campaign.campaignId, name: intent.campaign.name },
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
    const template = await this.templates.findLatest(intent.campaign.templateId);
    if (!template) {
      return this.fail(envelope, {
        code: 'TEMPLATE_NOT_FOUND',
        reason: `no published template "${intent.campaign.templateId}"`,
      });
    }
    let parts;
    try {
      parts = this.engine.render(template, templateData(intent));
    } catch (error) {
      return this.fail(envelope, { code: 'RENDER_ERROR', reason: (error as Error).message.slice(0, 2000) });
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
        ...parts,
        recipient,
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
