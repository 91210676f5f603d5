/** SMTP rejected the message for good (5xx): sending it again would fail the same way. */
export class SmtpRejectedError extends Error {
  constructor(
    message: string,
    readonly responseCode: number,
    /** The SMTP command refused: `RCPT TO` means the mailbox, `DATA` the message. */
    readonly command?: string,
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
  constructor(
    message: string,
    options?: ErrorOptions,
    /** Set when the server answered 4xx about this message (try again later), not for an unreachable server. */
    readonly responseCode?: number,
  ) {
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
      ? new SmtpRejectedError(message, responseCode, command)
      : new SmtpNotSentError(message, { cause: error });
  }
  if (responseCode !== undefined && responseCode >= 400) {
    const aboutMessage = command === undefined || /^(RCPT|DATA)/i.test(command);
    return new SmtpNotSentError(message, { cause: error }, aboutMessage ? responseCode : undefined);
  }
  const commandName = command?.toUpperCase().split(' ').slice(0, 2).join(' ');
  const beforeData =
    (code !== undefined && UNREACHABLE.has(code)) ||
    (commandName !== undefined && [...BEFORE_DATA].some((name) => commandName.startsWith(name)));
  if (beforeData) return new SmtpNotSentError(message, { cause: error });
  return error instanceof Error ? error : new Error(message);
}
