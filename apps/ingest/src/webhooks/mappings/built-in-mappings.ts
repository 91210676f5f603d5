import { type WebhookMappingName } from '../mapping-names.js';
import { type WebhookMapping } from '../webhook-mapping.js';
import { SHOPIFY_MAPPING } from './shopify.mapping.js';
import { WOOCOMMERCE_MAPPING } from './woocommerce.mapping.js';

export const BUILT_IN_MAPPINGS: Record<WebhookMappingName, WebhookMapping> = {
  shopify: SHOPIFY_MAPPING,
  woocommerce: WOOCOMMERCE_MAPPING,
};
