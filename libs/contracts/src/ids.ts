import { hash, randomUUID } from 'node:crypto';

/** A fresh message id (UUID v4). */
export function newMessageId(): string {
  return randomUUID();
}

/**
 * An id derived from its inputs (UUID v8 layout over SHA-256), so that a redelivered input produces
 * the same output id and the stream's duplicate window drops the copy.
 */
export function deterministicId(...parts: readonly string[]): string {
  const hex = hash('sha256', parts.join('\u001f'), 'hex');
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
