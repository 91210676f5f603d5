import { createHmac, createPublicKey, type KeyObject, sign, timingSafeEqual, verify } from 'node:crypto';

/** Constant-time comparison of two hex digests (different lengths are simply unequal). */
function sameHex(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(given, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

function fresh(timestampSeconds: number, now: Date, toleranceSeconds: number): boolean {
  return (
    Number.isFinite(timestampSeconds) && Math.abs(now.getTime() / 1000 - timestampSeconds) <= toleranceSeconds
  );
}

/**
 * The generic webhook's signature header, `Mesh-Signature: t=<unix seconds>,v1=<hex>`, where the hex is
 * HMAC-SHA256(secret, `<t>.<raw body>`). Several `v1=` values are accepted (secret rotation).
 */
export function signGeneric(secret: string, timestamp: number, rawBody: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

export function verifyGeneric(
  secret: string,
  header: string | undefined,
  rawBody: string,
  now: Date,
  toleranceSeconds: number,
): boolean {
  if (!header) return false;
  const parts = header.split(',').map((part) => part.trim().split('=', 2) as [string, string | undefined]);
  const t = Number(parts.find(([name]) => name === 't')?.[1]);
  if (!Number.isInteger(t) || !fresh(t, now, toleranceSeconds)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest('hex');
  return parts.some(([name, value]) => name === 'v1' && value !== undefined && sameHex(expected, value));
}

/**
 * Mailgun's webhook signature: `signature` = hex HMAC-SHA256(webhook signing key, timestamp + token),
 * all three in the body's `signature` object (https://documentation.mailgun.com, "Securing Webhooks").
 */
export function signMailgun(key: string, timestamp: string, token: string): string {
  return createHmac('sha256', key)
    .update(timestamp + token)
    .digest('hex');
}

export function verifyMailgun(
  key: string,
  signature: { timestamp: string; token: string; signature: string },
  now: Date,
  toleranceSeconds: number,
): boolean {
  if (!/^\d{1,12}$/.test(signature.timestamp)) return false;
  if (!fresh(Number(signature.timestamp), now, toleranceSeconds)) return false;
  return sameHex(signMailgun(key, signature.timestamp, signature.token), signature.signature);
}

/**
 * SendGrid's Signed Event Webhook: `X-Twilio-Email-Event-Webhook-Signature` is a base64 ECDSA P-256
 * (SHA-256, DER) signature of `<X-Twilio-Email-Event-Webhook-Timestamp><raw body>`, checked with the
 * verification key SendGrid shows for the webhook (base64 DER, as SendGrid's own libraries take it).
 */
export function sendgridKey(base64Der: string): KeyObject {
  return createPublicKey({ key: Buffer.from(base64Der, 'base64'), format: 'der', type: 'spki' });
}

export function signSendgrid(privateKey: KeyObject, timestamp: string, rawBody: string): string {
  return sign('sha256', Buffer.from(timestamp + rawBody), privateKey).toString('base64');
}

export function verifySendgrid(
  publicKey: KeyObject,
  signature: string | undefined,
  timestamp: string | undefined,
  rawBody: string,
  now: Date,
  toleranceSeconds: number,
): boolean {
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  if (!fresh(Number(timestamp), now, toleranceSeconds)) return false;
  try {
    return verify('sha256', Buffer.from(timestamp + rawBody), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false; // not a DER signature at all
  }
}

/** The fields of an Amazon SNS message that its signature covers (and the ones we read). */
export interface SnsMessage {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  Subject?: string;
  Token?: string;
  SubscribeURL?: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
}

const SIGNED_NOTIFICATION_FIELDS = [
  'Message',
  'MessageId',
  'Subject',
  'Timestamp',
  'TopicArn',
  'Type',
] as const;
const SIGNED_SUBSCRIPTION_FIELDS = [
  'Message',
  'MessageId',
  'SubscribeURL',
  'Timestamp',
  'Token',
  'TopicArn',
  'Type',
] as const;

/**
 * What SNS signs: each covered field present, as `<name>\n<value>\n`, in this order (AWS SNS
 * developer guide, "Verifying the signatures of Amazon SNS messages").
 */
export function snsStringToSign(message: SnsMessage): string {
  const fields = message.Type === 'Notification' ? SIGNED_NOTIFICATION_FIELDS : SIGNED_SUBSCRIPTION_FIELDS;
  return fields
    .filter((field) => message[field] !== undefined)
    .map((field) => `${field}\n${message[field]}\n`)
    .join('');
}

/** SignatureVersion 1 is RSA with SHA-1, 2 is RSA with SHA-256; the key is the signing certificate's. */
export function verifySns(message: SnsMessage, certificateKey: KeyObject): boolean {
  const algorithm = { '1': 'sha1', '2': 'sha256' }[message.SignatureVersion];
  if (!algorithm) return false;
  try {
    return verify(
      algorithm,
      Buffer.from(snsStringToSign(message)),
      certificateKey,
      Buffer.from(message.Signature, 'base64'),
    );
  } catch {
    return false;
  }
}

/** Only AWS's own SNS endpoints may hand out signing certificates or confirm subscriptions. */
export function isAwsSnsUrl(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(parsed.hostname);
  } catch {
    return false;
  }
}
