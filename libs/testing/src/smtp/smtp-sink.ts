import { type AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { describeEmail, toReceivedEmail, type ReceivedEmail } from './received-email.js';

const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

export type EmailPredicate = (email: ReceivedEmail) => boolean;
export type EmailListener = (email: ReceivedEmail) => void;

export interface SmtpSinkOptions {
  /** Messages kept from an earlier run (the local mailbox persists them). */
  messages?: readonly ReceivedEmail[];
}

/** An SMTP reply the sink gives instead of accepting a message (e.g. 451 or 550). */
export interface SmtpReply {
  code: number;
  message: string;
}

/** Decides the reply to a recipient: undefined accepts it. */
export type RecipientResponder = (address: string) => SmtpReply | undefined;

/** A held acceptance: the message is received and stored, but the final reply to DATA waits for release(). */
export interface HeldAcceptance {
  /** Resolves once a message has been received and its reply is being held. */
  reached: Promise<ReceivedEmail>;
  release(): void;
}

interface Waiter {
  matches: EmailPredicate;
  resolve(email: ReceivedEmail): void;
  reject(error: Error): void;
}

/** An SMTP server that accepts every message (any or no credentials, no TLS) and keeps it, parsed. */
export class SmtpSink {
  private server: SMTPServer | undefined;
  private listeningPort: number | undefined;
  private readonly received: ReceivedEmail[];
  private readonly waiters = new Set<Waiter>();
  private readonly listeners = new Set<EmailListener>();
  private responder: RecipientResponder | undefined;
  private hold: { reached: (email: ReceivedEmail) => void; released: Promise<void> } | undefined;

  constructor(options: SmtpSinkOptions = {}) {
    this.received = [...(options.messages ?? [])];
  }

  /** Listens on 127.0.0.1:`port` (0: a free port) and returns the port. */
  async start({ port = 0 }: { port?: number } = {}): Promise<number> {
    if (this.server) throw new Error(`SMTP sink already listens on port ${String(this.listeningPort)}.`);
    const server = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      allowInsecureAuth: true,
      size: MAX_MESSAGE_BYTES,
      logger: false,
      closeTimeout: 2_000,
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username ?? 'anonymous' }),
      onRcptTo: (address, _session, callback) => {
        const reply = this.responder?.(address.address);
        if (!reply) return callback();
        callback(Object.assign(new Error(reply.message), { responseCode: reply.code }));
      },
      onData: (stream, session, callback) => {
        this.receive(stream, session).then(() => callback(), callback);
      },
    });
    this.listeningPort = await listen(server, port);
    // A client dropping its connection emits 'error'; it must not crash the process.
    server.on('error', () => undefined);
    this.server = server;
    return this.listeningPort;
  }

  get port(): number {
    if (this.listeningPort === undefined) throw new Error('SMTP sink is not started.');
    return this.listeningPort;
  }

  /** Every message received so far (or kept since the last clear()), oldest first. */
  messages(): ReceivedEmail[] {
    return [...this.received];
  }

  /** The first message matching `predicate`, already received or still to come. */
  waitForEmail(predicate: EmailPredicate, timeoutMs = 10_000): Promise<ReceivedEmail> {
    const already = this.received.find(predicate);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(this.timeoutMessage(timeoutMs)));
      }, timeoutMs);
      const waiter: Waiter = {
        matches: predicate,
        resolve: (email) => {
          clearTimeout(timer);
          resolve(email);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** Calls `listener` for every new message; returns a function that unsubscribes. */
  onEmail(listener: EmailListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Answers RCPT TO with what `responder` returns (4xx: try later, 5xx: rejected); undefined accepts. */
  respondToRecipients(responder: RecipientResponder | undefined): void {
    this.responder = responder;
  }

  /**
   * Holds the reply to the next message's DATA: the message is stored (as an MTA would have queued
   * it) but the client gets no answer until release() — the moment a sender can crash not knowing.
   */
  holdNextAcceptance(): HeldAcceptance {
    let reached!: (email: ReceivedEmail) => void;
    let release!: () => void;
    const reachedPromise = new Promise<ReceivedEmail>((resolve) => (reached = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.hold = { reached, released };
    return { reached: reachedPromise, release };
  }

  /** Forgets received messages; pending waitForEmail calls keep waiting. */
  clear(): void {
    this.received.length = 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.listeningPort = undefined;
    for (const waiter of this.waiters)
      waiter.reject(new Error('SMTP sink stopped while waiting for an email.'));
    this.waiters.clear();
    if (server) await new Promise<void>((resolve) => server.close(resolve));
  }

  private async receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    if (stream.sizeExceeded) {
      throw Object.assign(new Error(`Message exceeds the ${MAX_MESSAGE_BYTES} byte limit`), {
        responseCode: 552,
      });
    }
    const mail = await simpleParser(raw);
    const email = { ...toReceivedEmail(mail, session.envelope), raw: raw.toString('utf8') };
    this.store(email);
    const hold = this.hold;
    if (hold) {
      this.hold = undefined;
      hold.reached(email);
      await hold.released;
    }
  }

  private store(email: ReceivedEmail): void {
    this.received.push(email);
    for (const listener of this.listeners) listener(email);
    for (const waiter of this.waiters) this.settle(waiter, email);
  }

  private settle(waiter: Waiter, email: ReceivedEmail): void {
    try {
      if (!waiter.matches(email)) return;
      this.waiters.delete(waiter);
      waiter.resolve(email);
    } catch (error) {
      this.waiters.delete(waiter);
      waiter.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private timeoutMessage(timeoutMs: number): string {
    const arrived = this.received.map((email) => `\n  - ${describeEmail(email)}`).join('');
    const count = this.received.length;
    return `No matching email arrived within ${timeoutMs} ms; ${count} email${count === 1 ? '' : 's'} arrived${count ? ':' : '.'}${arrived}`;
  }
}

function listen(server: SMTPServer, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
}
