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
          const code = (error as { responseCode?: number }).responseCode;
          if (code !== undefined && code >= 500) throw new SmtpRejectedError((error as Error).message, code);
          throw error;
        }
      },
      SpanKind.CLIENT,
    );
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}
