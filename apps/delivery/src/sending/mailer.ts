import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { SpanKind } from '@opentelemetry/api';
import { withSpan } from '@mesh/telemetry';
import nodemailer, { type Transporter } from 'nodemailer';
import { DeliveryEnv } from '../config.js';
import { DomainThrottle } from './domain-throttle.js';
import { classifySmtpError } from './smtp-errors.js';

export { classifySmtpError, SmtpNotSentError, SmtpRejectedError } from './smtp-errors.js';

export interface OutgoingEmail {
  /** The campaign's sender; MAIL_FROM otherwise. */
  from?: string;
  replyTo?: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Our own Message-ID, derived from the send key, so the ESP's records can be matched to the ledger. */
  messageId: string;
  headers?: Record<string, string>;
}

@Injectable()
export class Mailer implements OnApplicationShutdown {
  private readonly transport: Transporter;

  constructor(
    @Inject(DeliveryEnv) private readonly env: DeliveryEnv,
    private readonly throttle: DomainThrottle,
  ) {
    const dkim =
      env.DKIM_DOMAIN && env.DKIM_SELECTOR && env.DKIM_PRIVATE_KEY
        ? {
            domainName: env.DKIM_DOMAIN,
            keySelector: env.DKIM_SELECTOR,
            privateKey: env.DKIM_PRIVATE_KEY.replace(/\\n/g, '\n'),
          }
        : undefined;
    this.transport = nodemailer.createTransport(
      { url: env.SMTP_URL, pool: true, maxConnections: env.SMTP_POOL_SIZE, ...(dkim ? { dkim } : {}) },
      { from: env.MAIL_FROM },
    );
  }

  async send(email: OutgoingEmail): Promise<void> {
    await this.throttle.waitTurn(email.to);
    const host = new URL(this.env.SMTP_URL).host;
    await withSpan(
      'smtp send',
      { 'server.address': host, 'email.message_id': email.messageId },
      async () => {
        try {
          await this.transport.sendMail({
            ...(email.from ? { from: email.from } : {}),
            ...(email.replyTo ? { replyTo: email.replyTo } : {}),
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
