import { createHash } from 'node:crypto';
import { type Envelope, type TriggerDto } from '@mesh/contracts';
import { evaluate, type RuleContext } from '../rules/rule.js';
import { type Campaign, type CampaignVariant } from './campaign.js';

/** The key an email is sent at most once for: the cart or order it is about, else the event itself. */
export function triggerKeyOf(envelope: Envelope, trigger: TriggerDto): string {
  const { cart_id: cartId, order_id: orderId } = trigger.properties;
  if (typeof cartId === 'string' && cartId !== '') return `cart:${cartId}`;
  if (typeof orderId === 'string' && orderId !== '') return `order:${orderId}`;
  return `event:${envelope.id}`;
}

/** A stable draw in [0, 1) per (campaign, profile): a profile keeps its variant. */
export function draw(campaignId: string, profileId: string): number {
  const hex = createHash('sha256').update(`${campaignId}\u001f${profileId}`).digest('hex').slice(0, 8);
  return parseInt(hex, 16) / 2 ** 32;
}

export type Assignment = { kind: 'holdout' } | { kind: 'send'; variant?: CampaignVariant };

/** Holdout first (its share of the draw), then the variants by weight over the rest. */
export function assign(campaign: Campaign, profileId: string): Assignment {
  const u = draw(campaign.campaignId, profileId);
  const holdout = (campaign.holdoutPercent ?? 0) / 100;
  if (u < holdout) return { kind: 'holdout' };
  const variants = campaign.variants ?? [];
  const total = variants.reduce((sum, variant) => sum + variant.weight, 0);
  if (variants.length === 0 || total <= 0) return { kind: 'send' };
  let point = ((u - holdout) / (1 - holdout)) * total;
  for (const variant of variants) {
    if (point < variant.weight) return { kind: 'send', variant };
    point -= variant.weight;
  }
  return { kind: 'send', variant: variants[variants.length - 1]! };
}

export interface Entry {
  triggerKey: string;
  state: 'waiting' | 'fired' | 'cancelled' | 'holdout';
  enteredAt: number;
  /** The message whose trigger made this entry: when it is redelivered, its effect is made again. */
  origin?: string;
}

/**
 * Whether a profile may enter a campaign again. `again`: the same entry seen again (a redelivered
 * trigger while it waits), to be re-scheduled idempotently.
 */
export function reentryDecision(
  campaign: Campaign,
  entry: Entry | undefined,
  triggerKey: string,
  now: number,
): 'enter' | 'again' | 'skip' {
  if (!entry) return 'enter';
  if (entry.triggerKey === triggerKey) return entry.state === 'waiting' ? 'again' : 'skip';
  const rule = campaign.reentry ?? { mode: 'every_key' };
  switch (rule.mode) {
    case 'once':
      return 'skip';
    case 'cooldown':
      return now - entry.enteredAt >= (rule.cooldownSeconds ?? 0) * 1000 ? 'enter' : 'skip';
    case 'every_key':
      return 'enter';
  }
}

export function triggerMatches(campaign: Campaign, event: string, context: RuleContext): boolean {
  if (!campaign.enabled || campaign.trigger?.event !== event) return false;
  if (campaign.trigger.conditions && !evaluate(campaign.trigger.conditions, context)) return false;
  return !campaign.audience || (context.segments ?? []).includes(campaign.audience.segmentId);
}

export function cancels(campaign: Campaign, event: string, context: RuleContext): boolean {
  return (campaign.wait?.cancelIf ?? []).some(
    (cancel) => cancel.event === event && (!cancel.conditions || evaluate(cancel.conditions, context)),
  );
}
