/**
 * A source of facts about a person from outside (Clearbit-style). Results are cached per key and
 * lookups rate-limited by ThirdPartyEnricher, so a provider only answers one question.
 */
export interface EnrichmentProvider {
  readonly name: string;
  /** Lookups a second this provider allows (shared by every replica). */
  readonly perSecond: number;
  /** How long an answer is kept, in seconds. */
  readonly ttlSeconds: number;
  /** How long a lookup may take before the event goes on without it (default 2,000 ms). */
  readonly timeoutMs?: number;
  /** What to look up for these traits (e.g. the email's domain); undefined: nothing to ask. */
  keyOf(traits: Record<string, unknown>): string | undefined;
  lookup(key: string): Promise<Record<string, unknown>>;
}

export const ENRICHMENT_PROVIDERS = Symbol('ENRICHMENT_PROVIDERS');
