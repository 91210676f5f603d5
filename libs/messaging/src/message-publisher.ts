import { Inject, Injectable } from '@nestjs/common';
import { type Envelope, type PayloadOf, type Subject } from '@mesh/contracts';
import { withPublishSpan } from '@mesh/telemetry';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { MESSAGING_OPTIONS, type MessagingOptions } from './messaging-options.js';
import { NatsConnection } from './nats-connection.js';
import { StreamAcks } from './stream-acks.js';

/** The header by which JetStream drops a message id it already stored (within its duplicate window). */
const MESSAGE_ID_HEADER = 'Nats-Msg-Id';

export interface Published {
  stream: string;
  sequence: number;
  /** True when the stream already had this message id (a retry or a redelivered input). */
  duplicate: boolean;
}

/**
 * Publishes envelopes into JetStream: the envelope id is the `Nats-Msg-Id`, the stream's ack is
 * awaited, a timed-out publish is retried with the same id (StreamAcks), and the trace context
 * rides in headers. The subject fixes the payload type, so the wrong payload does not compile.
 */
@Injectable()
export class MessagePublisher {
  private acks?: StreamAcks;

  constructor(
    private readonly connection: NatsConnection,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
  ) {}

  publish<S extends Subject>(subject: S, envelope: Envelope<PayloadOf<S>>): Promise<Published> {
    // Buffer.from, not TextEncoder: a slice of Node's pool instead of a new ArrayBuffer, a sixth of the CPU.
    return this.publishRaw(subject, envelope.id, Buffer.from(JSON.stringify(envelope)));
  }

  /** For the dead-letter path and replay tools: bytes that may not be a valid envelope. */
  async publishRaw(
    subject: string,
    messageId: string,
    body: Uint8Array,
    extraHeaders: Record<string, string> = {},
  ): Promise<Published> {
    const headers = natsHeaders();
    for (const [key, value] of Object.entries(extraHeaders)) headers.set(key, value);
    headers.set(MESSAGE_ID_HEADER, messageId);
    return withPublishSpan(
      headers,
      { destination: subject, messageId, bodySize: body.byteLength },
      async (span) => {
        // Made on first use: the connection is open by then (MessagingModule's init).
        this.acks ??= new StreamAcks(
          this.connection.nc,
          this.options.publishTimeoutMs,
          this.options.publishAttempts,
        );
        const ack = await this.acks.publish(subject, body, headers);
        span.setAttribute('messaging.nats.stream', ack.stream);
        span.setAttribute('messaging.nats.duplicate', ack.duplicate);
        return { stream: ack.stream, sequence: ack.seq, duplicate: ack.duplicate };
      },
    );
  }
}
