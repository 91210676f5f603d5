import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Encrypts secrets that must be read back in plaintext (a webhook's HMAC secret) with AES-256-GCM:
 * stored as `v1.<iv>.<tag>.<ciphertext>` (base64url), so a copy of the database alone reveals nothing.
 */
export class SecretBox {
  private readonly key: Buffer;

  /** `hexKey`: INGEST_SECRET_KEY; without it a key derived from the admin token (never a default). */
  constructor(hexKey: string | undefined, adminToken: string) {
    this.key = hexKey
      ? Buffer.from(hexKey, 'hex')
      : createHmac('sha256', adminToken).update('ingest secrets at rest').digest();
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  open(sealed: string): string {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || ciphertext === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  }
}
