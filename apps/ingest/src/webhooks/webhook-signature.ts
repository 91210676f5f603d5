import { createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-mesh-timestamp';
export const SIGNATURE_HEADER = 'x-mesh-signature';
export const TOLERANCE_SECONDS = 300;

export type SignatureFailure =
  'missing_timestamp' | 'stale_timestamp' | 'missing_signature' | 'bad_signature';

/** `v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`, what a sender puts in X-Mesh-Signature. */
export function signWebhook(secret: string, timestamp: number, rawBody: Buffer | string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

/**
 * Checks a webhook's signature: the timestamp (Unix seconds) within ±300 s of now, and one of the
 * header's `v1=` signatures (comma-separated, so a sender can sign with old and new secret during a
 * rotation) matching one of the source's secrets, compared in constant time.
 */
export function verifyWebhook(
  secrets: readonly string[],
  timestampHeader: string | undefined,
  signatureHeader: string | undefined,
  rawBody: Buffer,
  nowMs = Date.now(),
): SignatureFailure | undefined {
  if (!timestampHeader || !/^\d{1,12}$/.test(timestampHeader)) return 'missing_timestamp';
  const timestamp = Number(timestampHeader);
  if (Math.abs(nowMs / 1000 - timestamp) > TOLERANCE_SECONDS) return 'stale_timestamp';
  const offered = (signatureHeader ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1=') && /^[0-9a-f]{64}$/i.test(part.slice(3)))
    .map((part) => Buffer.from(part.slice(3), 'hex'));
  if (offered.length === 0) return 'missing_signature';
  const expected = secrets.map((secret) =>
    createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest(),
  );
  const matches = offered.some((signature) => expected.some((digest) => timingSafeEqual(signature, digest)));
  return matches ? undefined : 'bad_signature';
}
