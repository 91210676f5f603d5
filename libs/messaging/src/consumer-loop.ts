import { createHash } from 'node:crypto';
import { type Logger } from '@nestjs/common';
import {
  type ServiceName,
  ContractViolationError,
  type Envelope,
  type DeadLetterPayload,
  deterministicId,
  isKnownSubject,
  parseEnvelope,
  SUBJECTS,
} from '@mesh/contracts';
import { withProcessSpan } from '@mesh/telemetry';
import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  JetStreamApiError,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { describeError, isPermanent, PermanentError } from './errors.js';
import { type MessagingMetrics } from './messaging-metrics.js';
import { type MessagingOptions } from './messaging-options.js';
import { type MessagePublisher } from './message-publisher.js';
import { type NatsConnection } from './nats-connection.js';
import { decideSettlement } from './settlement.js';
import { durableName, streamFor } from './streams.js';

/** How long one pull request waits for messages before the next is sent. */
const PULL_EXPIRES_MS = 5_000;
const PULL_RETRY_MS = 1_000;
/** Enough of a dead message's body to read it; the stream sequence points at the whole of it. */
const DEAD_LETTER_BODY_BYTES = 64 * 1024;

/** Runs one handler: receives the validated envelope, resolves when its effect is durable. */
export type EnvelopeHandler = (envelope: Envelope, message: JsMsg) => Promise<void>;

/** Messages with the same key are handled one after another; undefined: no ordering. */
export type OrderingKey = (envelope: Envelope) => string | undefined;

export interface ConsumerLoopDeps {
  connection: NatsConnection;
  publisher: MessagePublisher;
  metrics: MessagingMetrics;
  options: MessagingOptions;
  logger: Logger;
}

/**
 * One durable pull consumer (service × subject filter) and its bounded, concurrent processing:
 * validate → handle → ack; nak with backoff on a transient error; dead-letter a permanent error or
 * the last allowed delivery. The server never gives up on a message by itself (max_deliver is
 * unlimited there), so nothing leaves the consumer without being acked or dead-lettered.
 */
export class ConsumerLoop {
  readonly durable: string;
  readonly stream: string;
  private consumer?: Consumer;
  /** The pull request being served, closed on stop. */
  private batch?: ConsumerMessages;
  private running?: Promise<void>;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();
  /** Messages whose handler is running, with when it started, for the progress heartbeat. */
  private readonly working = new Map<JsMsg, number>();
  private heartbeat?: NodeJS.Timeout;
  /** Wakes the pull loop when a slot frees up. */
  private slotFreed?: () => void;
  /** The last queued handler run per ordering key. */
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly attributes: Record<string, string>;
  private readonly decoder = new TextDecoder();

  constructor(
    readonly filter: string,
    private readonly handle: EnvelopeHandler,
    private readonly deps: ConsumerLoopDeps,
    private readonly orderBy?: OrderingKey,
  ) {
    this.durable = durableName(deps.options.service, filter);
    this.stream = streamFor(filter).name;
    this.attributes = {
      'messaging.consumer.group.name': this.durable,
      'messaging.destination.name': filter,
      service: deps.options.service,
    };
  }

  consumerConfig(): Partial<ConsumerConfig> {
    const { options } = this.deps;
    return {
      durable_name: this.durable,
      filter_subject: this.filter,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(options.ackWaitMs),
      deliver_policy: DeliverPolicy.All,
      max_deliver: -1,
      // Shared by every replica, and counting nak-ed messages waiting for their retry: generous, so
      // failing messages never keep new ones out. Each replica's memory is bounded by its own pulls.
      max_ack_pending: options.maxAckPending,
    };
  }

  async start(): Promise<void> {
    const { jsm, js } = this.deps.connection;
    const config = this.consumerConfig();
    try {
      await jsm.consumers.add(this.stream, config);
    } catch (error) {
      if (!(error instanceof JetStreamApiError)) throw error;
      await jsm.consumers.update(this.stream, this.durable, config);
    }
    this.consumer = await js.consumers.get(this.stream, this.durable);
    // Keeps the server from redelivering messages whose handler is slow but still working on them.
    const beat = Math.max(100, this.deps.options.ackWaitMs / 3);
    this.heartbeat = setInterval(() => {
      const now = performance.now();
      for (const [message, started] of this.working) if (now - started >= beat) message.working();
      void this.refreshPending();
    }, beat);
    this.heartbeat.unref();
    this.running = this.pull(this.consumer);
  }

  /**
   * Stops pulling, lets in-flight handlers finish and settle, then returns. Handlers still running
   * after `drainTimeoutMs` are abandoned unsettled: the server redelivers them elsewhere.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.slotFreed?.();
    const drain = (async () => {
      await this.batch?.close();
      await this.running;
      await Promise.allSettled([...this.inFlight]);
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.deps.options.drainTimeoutMs);
    });
    const drained = await Promise.race([drain, timeout]);
    clearTimeout(timer);
    clearInterval(this.heartbeat);
    if (drained === 'timeout') {
      this.deps.logger.warn(
        `${this.durable}: ${this.inFlight.size} handler(s) still running after ${this.deps.options.drainTimeoutMs} ms; ` +
          'leaving them unsettled for redelivery',
      );
    }
  }

  /** The lag metric, also while no message arrives to carry it. */
  private async refreshPending(): Promise<void> {
    try {
      const info = await this.deps.connection.jsm.consumers.info(this.stream, this.durable);
      this.deps.metrics.recordPending(this.durable, this.attributes, info.num_pending);
    } catch {
      // A missed sample: the next beat tries again.
    }
  }

  /**
   * Pulls only as many messages as there are free handler slots, so every message this process holds
   * is being handled (and kept alive by the heartbeat): none waits in a client buffer past its ack wait.
   */
  private async pull(consumer: Consumer): Promise<void> {
    const limit = this.deps.options.concurrency;
    while (!this.stopping) {
      while (this.inFlight.size >= limit && !this.stopping) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
      }
      if (this.stopping) break;
      try {
        this.batch = await consumer.fetch({
          max_messages: limit - this.inFlight.size,
          expires: PULL_EXPIRES_MS,
        });
        for await (const message of this.batch) {
          if (this.stopping) message.nak();
          else this.handOver(message);
        }
      } catch (error) {
        if (this.stopping) break;
        // The server or the connection is away: the client reconnects; pull again shortly.
        this.deps.logger.warn(`${this.durable}: pull failed: ${describeError(error).message}`);
        await new Promise((resolve) => setTimeout(resolve, PULL_RETRY_MS));
      }
    }
  }

  private handOver(message: JsMsg): void {
    this.working.set(message, performance.now());
    const work = this.process(message)
      .catch((error: unknown) => {
        // Settling failed (e.g. the connection closed): unsettled, the message comes back after ack wait.
        this.deps.logger.error(
          `${this.durable}: could not settle ${message.subject}: ${describeError(error).message}`,
        );
      })
      .finally(() => {
        this.working.delete(message);
        this.inFlight.delete(work);
        this.slotFreed?.();
        this.slotFreed = undefined;
      });
    this.inFlight.add(work);
  }

  private async process(message: JsMsg): Promise<void> {
    const { metrics, options } = this.deps;
    const info = message.info;
    metrics.recordPending(this.durable, this.attributes, info.pending);
    await withProcessSpan(
      message.headers,
      {
        destination: message.subject,
        consumerGroup: this.durable,
        bodySize: message.data.byteLength,
        deliveryCount: info.deliveryCount,
        ...(message.headers?.get('Nats-Msg-Id') ? { messageId: message.headers.get('Nats-Msg-Id') } : {}),
      },
      async () => {
        const started = performance.now();
        const outcome = await this.run(message);
        const seconds = (performance.now() - started) / 1000;
        const settlement = decideSettlement(outcome, info.deliveryCount, options.retry);
        switch (settlement.kind) {
          case 'ack':
            message.ack();
            metrics.recordProcessed(this.attributes, seconds);
            return;
          case 'nak':
            metrics.recordFailed(this.attributes, seconds, false);
            this.deps.logger.warn(
              `${this.durable}: ${message.subject} #${info.streamSequence} failed on delivery ${info.deliveryCount}, ` +
                `retrying in ${settlement.delayMs} ms: ${describeError(outcome.ok ? undefined : outcome.error).message}`,
            );
            message.nak(settlement.delayMs);
            return;
          case 'dead-letter':
            metrics.recordFailed(this.attributes, seconds, settlement.permanent);
            await this.deadLetter(message, outcome.ok ? undefined : outcome.error, settlement.permanent);
            return;
        }
      },
    );
  }

  /** Validates and hands the message to its handler; never throws, reports the outcome instead. */
  private async run(message: JsMsg): Promise<{ ok: true } | { ok: false; error: unknown }> {
    const { options } = this.deps;
    if (message.info.deliveryCount > options.retry.maxDeliver) {
      // Earlier deliveries ended without a settlement (ack wait ran out, or the process died).
      return {
        ok: false,
        error: new PermanentError(
          `delivered ${message.info.deliveryCount} times without being settled (handler hung or the process crashed)`,
          'DELIVERIES_EXHAUSTED',
        ),
      };
    }
    try {
      const envelope = this.decode(message);
      await this.inOrder(this.orderBy?.(envelope), () => this.handle(envelope, message));
      return { ok: true };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /** Runs `work` after every earlier message with the same key has finished (in delivery order). */
  private async inOrder(key: string | undefined, work: () => Promise<void>): Promise<void> {
    if (key === undefined) return work();
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(work);
    this.tails.set(key, current);
    try {
      await current;
    } finally {
      if (this.tails.get(key) === current) this.tails.delete(key);
    }
  }

  private decode(message: JsMsg): Envelope {
    const subject = message.subject;
    if (!isKnownSubject(subject)) {
      throw new PermanentError(`no contract for subject "${subject}"`, 'UNKNOWN_SUBJECT');
    }
    let raw: unknown;
    try {
      raw = JSON.parse(this.decoder.decode(message.data));
    } catch (error) {
      throw new PermanentError(`body is not JSON: ${(error as Error).message}`, 'INVALID_JSON');
    }
    try {
      return parseEnvelope(subject, raw);
    } catch (error) {
      if (error instanceof ContractViolationError) throw Object.assign(error, { permanent: true });
      throw error;
    }
  }

  private async deadLetter(message: JsMsg, error: unknown, permanent: boolean): Promise<void> {
    const { options, publisher, metrics, logger } = this.deps;
    const service: ServiceName = options.service;
    const info = message.info;
    const body = this.decoder.decode(message.data);
    const original = tryParse(body);
    const bodyTruncated = message.data.byteLength > DEAD_LETTER_BODY_BYTES;
    const headers: Record<string, string[]> = {};
    for (const key of message.headers?.keys() ?? []) headers[key] = message.headers?.values(key) ?? [];
    const payload: DeadLetterPayload = {
      service,
      consumer: this.durable,
      stream: info.stream,
      streamSequence: info.streamSequence,
      subject: message.subject,
      deliveryCount: info.deliveryCount,
      error: { ...describeError(error), permanent: permanent || isPermanent(error) },
      headers,
      body: bodyTruncated ? this.decoder.decode(message.data.subarray(0, DEAD_LETTER_BODY_BYTES)) : body,
      bodyBytes: message.data.byteLength,
      bodySha256: createHash('sha256').update(message.data).digest('hex'),
      bodyTruncated,
      failedAt: new Date().toISOString(),
    };
    const id = deterministicId('dead-letter', this.durable, info.stream, String(info.streamSequence));
    const now = new Date().toISOString();
    try {
      await publisher.publish(SUBJECTS.dlq(service), {
        id,
        type: 'dead-letter',
        occurredAt: now,
        receivedAt: original?.receivedAt ?? now,
        source: original?.source ?? service,
        correlationId: original?.correlationId ?? id,
        causationId: original?.id ?? id,
        ...(original?.profileId ? { profileId: original.profileId } : {}),
        data: payload,
      });
    } catch (publishError) {
      // Not recorded anywhere yet: keep the message and try again later rather than lose it.
      logger.error(
        `${this.durable}: could not dead-letter ${message.subject} #${info.streamSequence}: ${describeError(publishError).message}`,
      );
      message.nak(options.retry.maxDelayMs);
      return;
    }
    message.term(`dead-lettered to dlq.${service}`);
    metrics.recordDeadLettered(this.attributes);
    logger.error(
      `${this.durable}: dead-lettered ${message.subject} #${info.streamSequence} after ${info.deliveryCount} ` +
        `deliver${info.deliveryCount === 1 ? 'y' : 'ies'}: ${payload.error.name}: ${payload.error.message}`,
    );
  }
}

interface EnvelopeFields {
  id: string | undefined;
  source: string | undefined;
  correlationId: string | undefined;
  receivedAt: string | undefined;
  profileId: string | undefined;
}

function tryParse(body: string): EnvelopeFields | undefined {
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value !== 'object' || value === null) return undefined;
    const fields = value as Record<string, unknown>;
    // Only fields that would pass the envelope's own rules are carried over into the dead letter.
    const text = (key: string, rule: RegExp) => {
      const field = fields[key];
      return typeof field === 'string' && rule.test(field) ? field : undefined;
    };
    const id = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
    const short = /^.{1,128}$/;
    const iso = /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/;
    return {
      id: text('id', id),
      source: text('source', short),
      correlationId: text('correlationId', id),
      receivedAt: text('receivedAt', iso),
      profileId: text('profileId', short),
    };
  } catch {
    return undefined;
  }
}
