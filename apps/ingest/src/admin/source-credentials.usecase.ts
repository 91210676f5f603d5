import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { IngestEnv } from '../config.js';
import { SecretBox } from '../sources/secret-box.js';
import { hashWriteKey, newSecretToken, type Source } from '../sources/source.js';
import { SourceExistsError, type SourceRecord, SourcesRepository } from '../sources/sources.repository.js';

export interface CreatedSource {
  source: SourceRecord;
  /** Shown once: only its SHA-256 is stored. */
  writeKey: string;
  /** Shown once here; stored encrypted, since verifying a signature needs it. */
  webhookSecret: string;
}

export interface RotatedCredential {
  /** The new key or secret, shown once. */
  value: string;
  /** Until when the one it replaces is still accepted. */
  previousValidUntil: string;
}

/** Issues a source's credentials: on creation, and again on each rotation (old ones get a grace period). */
@Injectable()
export class SourceCredentialsUseCase {
  constructor(
    private readonly sources: SourcesRepository,
    private readonly secrets: SecretBox,
    @Inject(IngestEnv) private readonly env: IngestEnv,
  ) {}

  async create(source: Source): Promise<CreatedSource> {
    const writeKey = newSecretToken('wk');
    const webhookSecret = newSecretToken('whsec');
    try {
      const record = await this.sources.create(
        source,
        hashWriteKey(writeKey),
        this.secrets.seal(webhookSecret),
      );
      return { source: record, writeKey, webhookSecret };
    } catch (error) {
      if (error instanceof SourceExistsError) {
        throw new ConflictException({
          error: 'conflict',
          message: `a source with id ${source.id} exists`,
          fields: { id: ['is taken'] },
        });
      }
      throw error;
    }
  }

  async rotateWriteKey(id: string): Promise<RotatedCredential> {
    const writeKey = newSecretToken('wk');
    const graceUntil = this.graceUntil();
    if (!(await this.sources.rotateWriteKey(id, hashWriteKey(writeKey), graceUntil))) throw notFound(id);
    return { value: writeKey, previousValidUntil: graceUntil.toISOString() };
  }

  async rotateWebhookSecret(id: string): Promise<RotatedCredential> {
    const secret = newSecretToken('whsec');
    const graceUntil = this.graceUntil();
    if (!(await this.sources.rotateWebhookSecret(id, this.secrets.seal(secret), graceUntil)))
      throw notFound(id);
    return { value: secret, previousValidUntil: graceUntil.toISOString() };
  }

  private graceUntil(): Date {
    return new Date(Date.now() + this.env.INGEST_KEY_ROTATION_GRACE_SECONDS * 1000);
  }
}

export const notFound = (id: string) =>
  new NotFoundException({ error: 'not_found', message: `no source with id ${id}` });
