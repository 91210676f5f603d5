import { type RecommendedSendPayload } from '@mesh/contracts';
import { FALLBACK_HELPERS } from './data-fallbacks.js';
import { TEMPLATE_HELPERS } from './template-helpers.js';

/** What a render reads, as plain data that can cross to a worker thread. */
export interface RenderInput {
  traits: Record<string, unknown>;
  computed: Record<string, unknown>;
  products: unknown[];
  trigger: Record<string, unknown>;
  event?: string;
  campaign: { id: string; name?: string };
}

export function renderInputOf(intent: RecommendedSendPayload): RenderInput {
  return {
    traits: intent.profile.traits,
    computed: intent.profile.computed,
    products: intent.recommendations.items,
    trigger: intent.trigger.properties,
    event: intent.trigger.event,
    campaign: { id: intent.campaign.campaignId, name: intent.campaign.name },
  };
}

/**
 * What a template sees: the profile's traits at the top (`it.first_name`), named parts, and the
 * helpers (`it.money`, `it.date`, `it.plural`, `it.or`, `it.raw`, `it.abort`, `it.fallback`,
 * `it.has`), which win over traits of the same name.
 */
export function templateData(input: RenderInput): Record<string, unknown> {
  return {
    ...input.traits,
    traits: input.traits,
    computed: input.computed,
    products: input.products,
    trigger: input.trigger,
    event: input.event,
    campaign: input.campaign,
    ...TEMPLATE_HELPERS,
    ...FALLBACK_HELPERS,
  };
}
