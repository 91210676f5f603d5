import { randomUUID } from 'node:crypto';
import { type AddressObject, type EmailAddress, type ParsedMail } from 'mailparser';
import { type SMTPServerEnvelope } from 'smtp-server';

/** One message as the SMTP sink received it. */
export interface ReceivedEmail {
  id: string;
  /** ISO-8601. */
  receivedAt: string;
  /** What the client said in MAIL FROM / RCPT TO. */
  envelope: { from: string; to: string[] };
  /** Bare addresses from the headers; display names are in `headers.from` / `headers.to`. */
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** Raw header values (unfolded, not decoded) by lower-case name; repeated headers joined by newlines. */
  headers: Record<string, string>;
  messageId: string;
  /** The message exactly as received (for signature checks), when the sink kept it. */
  raw?: string;
}

export function toReceivedEmail(mail: ParsedMail, envelope: SMTPServerEnvelope): ReceivedEmail {
  return {
    id: randomUUID(),
    receivedAt: new Date().toISOString(),
    envelope: {
      from: envelope.mailFrom ? envelope.mailFrom.address : '',
      to: envelope.rcptTo.map((recipient) => recipient.address),
    },
    from: addressesOf(mail.from)[0] ?? '',
    to: addressesOf(mail.to),
    subject: mail.subject ?? '',
    text: mail.text ?? '',
    html: mail.html || '',
    headers: headersOf(mail),
    messageId: mail.messageId ?? '',
  };
}

/** One line for logs and errors: `"Subject" from sender to recipients at time`. */
export function describeEmail(email: ReceivedEmail): string {
  return `"${email.subject}" from ${email.from} to ${email.to.join(', ')} at ${email.receivedAt}`;
}

function addressesOf(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : [field].flat();
  return objects.flatMap((object) => object.value.flatMap(flattenGroup));
}

function flattenGroup(address: EmailAddress): string[] {
  if (address.group) return address.group.flatMap(flattenGroup);
  return address.address ? [address.address] : [];
}

function headersOf(mail: ParsedMail): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { key, line } of mail.headerLines) {
    const value = line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    headers[key] = key in headers ? `${headers[key]}\n${value}` : value;
  }
  return headers;
}
