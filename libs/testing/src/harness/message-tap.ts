import { type Envelope } from '@mesh/contracts';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';

export interface TappedMessage<T = unknown> {
  subject: string;
  envelope: Envelope<T>;
  headers: Record<string, string>;
}

/**
 * Listens to subjects with a plain NATS subscription (it sees every JetStream publish without
 * consuming anything) and lets a test wait for the message it expects.
 */
export class MessageTap {
  private readonly received: TappedMessage[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly connection: NatsConnection,
    private readonly subscription: Subscription,
  ) {}

  static async open(natsUrl: string, subject = '>'): Promise<MessageTap> {
    const connection = await connect({ servers: natsUrl, name: 'message-tap' });
    const subscription = connection.subscribe(subject);
    const tap = new MessageTap(connection, subscription);
    void tap.collect();
    await connection.flush();
    return tap;
  }

  private async collect(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const message of this.subscription) {
      if (message.subject.startsWith('$JS.') || message.subject.startsWith('_INBOX.')) continue;
      // A stream message delivered to a consumer's inbox also matches `>` (the MSG line carries the
      // stream subject); its reply is the ack subject. Only the publication itself is tapped.
      if (message.reply?.startsWith('$JS.ACK.')) continue;
      let envelope: Envelope;
      try {
        envelope = JSON.parse(decoder.decode(message.data)) as Envelope;
      } catch {
        continue;
      }
      const headers: Record<string, string> = {};
      for (const key of message.headers?.keys() ?? []) headers[key] = message.headers?.get(key) ?? '';
      this.received.push({ subject: message.subject, envelope, headers });
      for (const wake of this.waiters) wake();
    }
  }

  messages(subject?: string): TappedMessage[] {
    return this.received.filter((message) => subject === undefined || message.subject === subject);
  }

  /** Resolves with the first message on `subject` that matches, already received or still to come. */
  async next<T = unknown>(
    subject: string,
    predicate: (message: TappedMessage<T>) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<TappedMessage<T>> {
    const find = () =>
      (this.received as TappedMessage<T>[]).find(
        (message) => message.subject === subject && predicate(message),
      );
    const found = find();
    if (found) return found;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const seen = [...new Set(this.received.map((message) => message.subject))].join(', ') || 'nothing';
        reject(new Error(`no matching message on ${subject} within ${timeoutMs} ms (seen: ${seen})`));
      }, timeoutMs);
      const check = () => {
        const match = find();
        if (!match) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(match);
      };
      this.waiters.add(check);
    });
  }

  /** The first message on `subject` produced from `input` (its causation), received or to come. */
  nextCausedBy<T = unknown>(
    subject: string,
    input: { id: string },
    timeoutMs?: number,
  ): Promise<TappedMessage<T>> {
    return this.next<T>(subject, (message) => message.envelope.causationId === input.id, timeoutMs);
  }

  /** Every message on `subject` produced from `input` so far. */
  causedBy(subject: string, input: { id: string }): TappedMessage[] {
    return this.messages(subject).filter((message) => message.envelope.causationId === input.id);
  }

  async close(): Promise<void> {
    this.subscription.unsubscribe();
    await this.connection.close();
  }
}
