import { type ServiceName } from '@mesh/contracts';
import { type RetryPolicy } from './settlement.js';

export interface MessagingOptions {
  service: ServiceName;
  /** Comma-separated NATS URLs. */
  servers: string;
  /** NATS user and password, when the server requires authentication. */
  user?: string;
  pass?: string;
  /** Replicas of each stream (3 in production). */
  streamReplicas: number;
  /**
   * Cap on each stream's size, under the table's production figure. JetStream reserves it against
   * the server's storage, so small machines and tests need a lower one.
   */
  streamMaxBytes: number;
  retry: RetryPolicy;
  /** Handlers one consumer runs at once; also the most messages it holds unacknowledged. */
  concurrency: number;
  /** Unacknowledged messages the server lets out to all replicas of one consumer (nak-ed ones included). */
  maxAckPending: number;
  /** How long the server waits for an ack before redelivering (handlers in progress extend it). */
  ackWaitMs: number;
  /** How long a publish waits for the stream's ack before retrying with the same message id. */
  publishTimeoutMs: number;
  /** Publish attempts on timeout or no responders. */
  publishAttempts: number;
  /** On shutdown, how long in-flight handlers may run before they are left for redelivery. */
  drainTimeoutMs: number;
}

export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

export function messagingOptions(
  partial: Pick<MessagingOptions, 'service' | 'servers'> &
    Partial<Omit<MessagingOptions, 'retry'>> & {
      retry?: Partial<RetryPolicy>;
    },
): MessagingOptions {
  return {
    streamReplicas: 1,
    streamMaxBytes: 1024 ** 3,
    concurrency: 64,
    maxAckPending: 10_000,
    ackWaitMs: 30_000,
    publishTimeoutMs: 5_000,
    publishAttempts: 5,
    drainTimeoutMs: 25_000,
    ...partial,
    retry: { maxDeliver: 5, baseDelayMs: 1_000, maxDelayMs: 60_000, ...partial.retry },
  };
}
