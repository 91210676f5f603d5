import { type CampaignSpecDto } from '@mesh/contracts';
import { type Rule } from '../rules/rule.js';

export interface CampaignVariant {
  name: string;
  /** Relative share of the profiles that are not held out. */
  weight: number;
  templateId?: string;
  templateVersion?: number;
}

export const REENTRY_MODES = ['every_key', 'once', 'cooldown'] as const;
/**
 * `every_key`: once per trigger key (each cart, each order); `once`: once per profile ever;
 * `cooldown`: again only `cooldownSeconds` after the last entry.
 */
export type ReentryMode = (typeof REENTRY_MODES)[number];

/**
 * A campaign: when a trigger event matches its conditions for a profile of its audience, wait (unless
 * a cancel-if event comes first), then send one template, chosen by A/B variant, to the profile.
 */
export interface Campaign extends CampaignSpecDto {
  enabled: boolean;
  /** Absent for a broadcast-only campaign. */
  trigger?: { event: string; conditions?: Rule };
  wait?: { seconds: number; cancelIf?: Array<{ event: string; conditions?: Rule }> };
  audience?: { segmentId: string };
  reentry?: { mode: ReentryMode; cooldownSeconds?: number };
  variants?: CampaignVariant[];
  /** Share of entering profiles who get nothing (the control group), 0–100. */
  holdoutPercent?: number;
}

/** What the later stages get: the spec, with the variant's template. */
export function specOf(campaign: Campaign, variant: CampaignVariant | undefined): CampaignSpecDto {
  const spec: CampaignSpecDto = {
    campaignId: campaign.campaignId,
    name: campaign.name,
    templateId: variant?.templateId ?? campaign.templateId,
    recommendation: campaign.recommendation,
    sendPolicy: campaign.sendPolicy,
  };
  const templateVersion = variant?.templateId
    ? variant.templateVersion
    : (variant?.templateVersion ?? campaign.templateVersion);
  if (templateVersion !== undefined) spec.templateVersion = templateVersion;
  if (variant) spec.variant = variant.name;
  if (campaign.priority !== undefined) spec.priority = campaign.priority;
  if (campaign.from !== undefined) spec.from = campaign.from;
  if (campaign.replyTo !== undefined) spec.replyTo = campaign.replyTo;
  return spec;
}

/** The demo of the local runtime: a cart reminder on `Product Added`, after a short (default no) wait. */
export function demoCampaign(waitSeconds: number): Campaign {
  return {
    campaignId: 'demo-cart-reminder',
    name: 'Demo: you left something in your cart',
    enabled: true,
    trigger: { event: 'Product Added' },
    ...(waitSeconds > 0 ? { wait: { seconds: waitSeconds, cancelIf: [{ event: 'Order Completed' }] } } : {}),
    templateId: 'demo-cart-reminder',
    recommendation: { strategy: 'popular', limit: 3 },
    sendPolicy: { maxPerDay: 0, transactional: false },
  };
}

export const DEMO_CAMPAIGN: Campaign = demoCampaign(0);
