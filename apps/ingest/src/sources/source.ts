import { createHash } from 'node:crypto';

/** A system that sends events (an SDK install, a shop, a CRM), authenticated by its write key. */
export interface Source {
  id: string;
  name: string;
  enabled: boolean;
}

/** Write keys are random 128-bit+ tokens, so a plain SHA-256 is a safe way to store them. */
export function hashWriteKey(writeKey: string): string {
  return createHash('sha256').update(writeKey).digest('hex');
}
