/** The built-in webhook mappings a source can be given (see webhooks/mappings/). */
export const WEBHOOK_MAPPING_NAMES = ['shopify', 'woocommerce'] as const;
export type WebhookMappingName = (typeof WEBHOOK_MAPPING_NAMES)[number];
