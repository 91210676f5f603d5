import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { SpanKind } from '@opentelemetry/api';
import { withSpan } from '@mesh/telemetry';
import nodemailer, { type Transporter } from 'nodemailer';
import { DeliveryEnv } from '../config.js';

export interface OutgoingEmail {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Our own Message-ID, derived from the send key, so the ESP's records can be matched to the ledger. */
  messageId: string;
  headers?: Record<string, string>;
}

/** SMTP rejected the message for good (5xx): sending it again would fail the same way. */
export class SmtpRejectedError extends Error {
  constructor(
    message: string,
    readonly responseCode: number,
  ) {
    super(message);
    this.name = 'SmtpRejectedError';
  }
}

/**
 * The SMTP server did not take the message, and a retry cannot send it twice: the failure came before
 * the message body was handed over, or the server answered 4xx (try again later).
 */
export class SmtpNotSentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SmtpNotSentError';
  }
}

/** Commands before DATA: a failure there means the server never received the message. */
const BEFORE_DATA = new Set([
  'CONN',
  'GREETING',
  'EHLO',
  'HELO',
  'LHLO',
  'STARTTLS',
  'AUTH',
  'MAIL FROM',
  'RCPT TO',
]);
/** Failures to reach the server at all. */
const UNREACHABLE = new Set(['ECONNECTION', 'EDNS', 'ECONNREFUSED', 'EAUTH', 'ETLS']);

/**
 * Sorts a nodemailer error by what it says about the message: rejected for good (5xx), certainly
 * not sent (safe to retry), or unknown (the connection broke around the end of DATA: it may have
 * been delivered) — returned as is, so the caller never re-sends it blindly.
 */
export function classifySmtpError(error: unknown): Error {
  const { responseCode, code, command } = error as { responseCode?: number; code?: string; command?: string };
  const message = error instanceof Error ? error.message : String(error);
  // A 5xx about this message (its recipient or content) is final; one about our session (AUTH, MAIL
  // FROM: a configuration problem on our side) is not the message's fault: retried, then dead-lettered.
  if (responseCode !== undefined && responseCode >= 500) {
    const aboutMessage = command === undefined || /^(RCPT|DATA)/i.test(command);
    return aboutMessage
      ? new SmtpRejectedError(message, responseCode)
      : new SmtpNotSentError(message, { cause: error });
  }
  if (responseCode !== undefined && responseCode >= 400)
    return new SmtpNotSentError(message, { cause: error });
  const commandName = command?.toUpperCase().split(' ').slice(0, 2).join(' ');
  const beforeData =
    (code !== undefined && UNREACHABLE.has(code)) ||
    (commandName !== undefined && [...BEFORE_DATA].some((name) => commandName.startsWith(name)));
  if (beforeData) return new SmtpNotSentError(message, { cause: error });
  return error instanceof Error ? error : new Error(message);
}

@Injectable()
export class Mailer implements OnApplicationShutdown {
  private readonly transport: Transporter;

  constructor(@Inject(DeliveryEnv) private readonly env: DeliveryEnv) {
    this.transport = nodemailer.createTransport(env.SMTP_URL, { from: env.MAIL_FROM });
  }

  async send(email: OutgoingEmail): Promise<void> {
    const host = new URL(this.env.SMTP_URL).host;
    await withSpan(
      'smtp send',
      { 'server.address': host, 'email.message_id': email.messageId },
      async () => {
        try {
          await this.transport.sendMail({
            to: email.to,
            subject: email.subject,
            html: email.html,
            text: email.text,
            messageId: email.messageId,
            ...(email.headers ? { headers: email.headers } : {}),
          });
        } catch (error) {
          throw classifySmtpError(error);
        }
      },
      SpanKind.CLIENT,
    );
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}
