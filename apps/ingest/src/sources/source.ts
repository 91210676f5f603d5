import { type WebhookMapping } from '../webhooks/webhook-mapping.js';
import { createHash, randomBytes } from 'node:crypto';

/** A system that sends events (an SDK install, a shop, a CRM), authenticated by its write key. */
export interface Source {
  id: string;
  name: string;
  enabled: boolean;
  /** Requests a second it may send; the service's default when unset. */
  rateLimitPerSecond?: number;
  /** The mapping its webhooks are read with (a built-in mapping's name, or its own), if it sends webhooks. */
  webhookMapping?: string | WebhookMapping;
}

/** Write keys are random 128-bit+ tokens, so a plain SHA-256 is a safe way to store them. */
export function hashWriteKey(writeKey: string): string {
  return createHash('sha256').update(writeKey).digest('hex');
}

/** A new write key or webhook secret: 192 random bits, URL-safe. */
export function newSecretToken(prefix: 'wk' | 'whsec'): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}
