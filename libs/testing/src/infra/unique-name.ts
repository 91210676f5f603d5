import { randomBytes } from 'node:crypto';

/**
 * A name no other test uses, e.g. a database per test file on a shared MongoDB:
 * `uniqueName('identity')` → `identity_m3x1k2_9f3a1c`. Letters, digits and `_` only, under 40 characters.
 */
export function uniqueName(prefix: string): string {
  const safePrefix = prefix.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 24);
  return `${safePrefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}
