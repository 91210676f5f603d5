import { isPermanent } from './errors.js';

export interface RetryPolicy {
  /** Deliveries of one message before it is dead-lettered. */
  maxDeliver: number;
  /** Delay before the second delivery; doubled for each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export type Settlement =
  | { readonly kind: 'ack' }
  | { readonly kind: 'nak'; readonly delayMs: number }
  | { readonly kind: 'dead-letter'; readonly permanent: boolean };

/** Delay before redelivery `deliveryCount + 1`: exponential, capped, with ±20 % jitter. */
export function retryDelay(
  deliveryCount: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, deliveryCount - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  return Math.round(capped * (0.8 + 0.4 * random()));
}

/**
 * How a message is settled once its handler has finished: ack on success; dead-letter a permanent
 * error or a failure on the last allowed delivery; otherwise nak with a growing delay.
 */
export function decideSettlement(
  outcome: { ok: true } | { ok: false; error: unknown },
  deliveryCount: number,
  policy: RetryPolicy,
): Settlement {
  if (outcome.ok) return { kind: 'ack' };
  if (isPermanent(outcome.error)) return { kind: 'dead-letter', permanent: true };
  if (deliveryCount >= policy.maxDeliver) return { kind: 'dead-letter', permanent: false };
  return { kind: 'nak', delayMs: retryDelay(deliveryCount, policy) };
}
