import { type CampaignSpecDto } from '@mesh/contracts';

/** A campaign: when an event happens, send one template to the profile. */
export interface Campaign extends CampaignSpecDto {
  enabled: boolean;
  trigger: { event: string };
}

/** The demo of the local runtime: a cart reminder on `Product Added` (sent at once, for the demo). */
export const DEMO_CAMPAIGN: Campaign = {
  campaignId: 'demo-cart-reminder',
  name: 'Demo: you left something in your cart',
  enabled: true,
  trigger: { event: 'Product Added' },
  templateId: 'demo-cart-reminder',
  recommendation: { strategy: 'popular', limit: 3 },
  sendPolicy: { maxPerDay: 0, transactional: false },
};
