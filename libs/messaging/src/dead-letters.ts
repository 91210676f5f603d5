import { type DeadLetterPayload, type Envelope, SERVICES, type ServiceName } from '@mesh/contracts';
import {
  DeliverPolicy,
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  type JsMsg,
  type StoredMsg,
} from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';

export interface DeadLetterEntry {
  /** Its sequence in the DLQ stream: what `replay` takes. */
  sequence: number;
  deadLetter: DeadLetterPayload;
}

export interface Replayed {
  subject: string;
  messageId: string;
  /** Where the body came from: the original stream, or the dead letter when the original aged out. */
  from: 'stream' | 'dead-letter';
}

const DLQ_STREAM = 'DLQ';
const decoder = new TextDecoder();

/** For operators: what each service gave up on, and sending a message through its consumers again. */
export class DeadLetters {
  constructor(private readonly nc: NatsConnection) {}

  /**
   * How many dead letters of one service the DLQ stream holds (replayed ones stay until they age out
   * of the stream): the "DLQ depth" gauge. 0 before any service created the stream.
   */
  async depth(service: ServiceName): Promise<number> {
    const subject = `dlq.${service}`;
    try {
      const info = await (
        await jetstreamManager(this.nc)
      ).streams.info(DLQ_STREAM, {
        subjects_filter: subject,
      });
      return info.state.subjects?.[subject] ?? 0;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return 0;
      throw error;
    }
  }

  /** The dead letters of one service (or all), oldest first. */
  async list(service?: ServiceName, limit = 50): Promise<DeadLetterEntry[]> {
    if (service !== undefined && !SERVICES.includes(service))
      throw new Error(`unknown service "${String(service)}"`);
    const js = jetstream(this.nc);
    try {
      await (await jetstreamManager(this.nc)).streams.info(DLQ_STREAM);
    } catch (error) {
      // No service has started against this server yet: nothing was dead-lettered.
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return [];
      throw error;
    }
    const consumer = await js.consumers.get(DLQ_STREAM, {
      filter_subjects: service ? `dlq.${service}` : 'dlq.>',
      deliver_policy: DeliverPolicy.All,
    });
    const entries: DeadLetterEntry[] = [];
    if ((await consumer.info(true)).num_pending === 0) return entries;
    const batch = await consumer.fetch({ max_messages: limit, expires: 2_000 });
    for await (const message of batch) {
      entries.push({ sequence: message.seq, deadLetter: this.decode(message) });
      if (message.info.pending === 0 || entries.length >= limit) break;
    }
    return entries;
  }

  /**
   * Publishes the dead message again on its subject under a new message id, so every consumer of
   * that subject gets it once more (they are idempotent: those that handled it already do nothing new).
   */
  async replay(sequence: number): Promise<Replayed> {
    const jsm = await jetstreamManager(this.nc);
    const stored = await jsm.streams.getMessage(DLQ_STREAM, { seq: sequence });
    if (!stored) throw new Error(`no dead letter #${sequence} in the ${DLQ_STREAM} stream`);
    const deadLetter = this.decode(stored);
    const original = await jsm.streams
      .getMessage(deadLetter.stream, { seq: deadLetter.streamSequence })
      .catch(() => null);
    if (!original && deadLetter.bodyTruncated) {
      throw new Error(
        `dead letter #${sequence}: the original (${deadLetter.stream} #${deadLetter.streamSequence}) is gone and the ` +
          'dead letter keeps only the start of its body; it cannot be replayed',
      );
    }
    const body = original ? original.data : new TextEncoder().encode(deadLetter.body);
    const headers = natsHeaders();
    for (const [key, values] of Object.entries(deadLetter.headers)) {
      if (key.toLowerCase() === 'nats-msg-id') continue;
      for (const value of values) headers.append(key, value);
    }
    const originalId =
      deadLetter.headers['Nats-Msg-Id']?.[0] ?? `${deadLetter.stream}-${deadLetter.streamSequence}`;
    const messageId = `${originalId}:replay:${sequence}`;
    await jetstream(this.nc).publish(deadLetter.subject, body, { msgID: messageId, headers });
    return { subject: deadLetter.subject, messageId, from: original ? 'stream' : 'dead-letter' };
  }

  private decode(message: JsMsg | StoredMsg): DeadLetterPayload {
    return (JSON.parse(decoder.decode(message.data)) as Envelope<DeadLetterPayload>).data;
  }
}
