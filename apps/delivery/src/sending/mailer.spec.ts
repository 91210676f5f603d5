import { classifySmtpError, SmtpNotSentError, SmtpRejectedError } from './mailer.js';

const smtpError = (fields: { responseCode?: number; code?: string; command?: string }) =>
  Object.assign(new Error('smtp failure'), fields);

describe('classifySmtpError', () => {
  it('treats a 5xx answer as a rejection for good', () => {
    expect(classifySmtpError(smtpError({ responseCode: 550, command: 'RCPT TO' }))).toBeInstanceOf(
      SmtpRejectedError,
    );
    expect(classifySmtpError(smtpError({ responseCode: 554, command: 'DATA' }))).toBeInstanceOf(
      SmtpRejectedError,
    );
  });

  it('does not drop emails for a 5xx about our own session (authentication, sender)', () => {
    expect(classifySmtpError(smtpError({ responseCode: 535, command: 'AUTH PLAIN' }))).toBeInstanceOf(
      SmtpNotSentError,
    );
    expect(classifySmtpError(smtpError({ responseCode: 550, command: 'MAIL FROM' }))).toBeInstanceOf(
      SmtpNotSentError,
    );
  });

  it('retries what certainly did not reach the server', () => {
    for (const fields of [
      { code: 'ESOCKET', command: 'CONN' },
      { code: 'ECONNECTION' },
      { code: 'ETIMEDOUT', command: 'CONN' },
      { code: 'EENVELOPE', command: 'MAIL FROM' },
      { responseCode: 451, command: 'DATA' },
      { responseCode: 421, command: 'EHLO' },
    ]) {
      expect(classifySmtpError(smtpError(fields))).toBeInstanceOf(SmtpNotSentError);
    }
  });

  it('does not call a failure around the end of DATA retryable: the email may have been delivered', () => {
    for (const fields of [{ code: 'ETIMEDOUT', command: 'DATA' }, { code: 'ESOCKET' }, {}]) {
      const classified = classifySmtpError(smtpError(fields));
      expect(classified).not.toBeInstanceOf(SmtpNotSentError);
      expect(classified).not.toBeInstanceOf(SmtpRejectedError);
    }
  });
});
