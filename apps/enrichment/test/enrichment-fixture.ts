import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Envelope,
  originEnvelope,
  type ResolvedIdentifyPayload,
  type ResolvedTrackPayload,
} from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import {
  bootService,
  type BootedService,
  type Infra,
  MessageTap,
  repoRoot,
  startInfra,
  uniqueName,
} from '@mesh/testing';
import { type Db, MongoClient } from 'mongodb';
import { enrichmentSpec } from '../src/enrichment.app.js';
import { Clock } from '../src/shared/clock.js';

export const ADMIN_TOKEN = 'enrichment-test-admin-token';

/** Enrichment against its own servers, restartable on the same state (a new process would be the same). */
export class EnrichmentFixture {
  service!: BootedService;
  tap!: MessageTap;
  db!: Db;
  private mongo!: MongoClient;

  private constructor(
    readonly infra: Infra,
    private readonly env: Record<string, string>,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<EnrichmentFixture> {
    const infra = await startInfra({ nats: true, mongo: true, redis: true });
    const database = uniqueName('enrichment');
    const fixture = new EnrichmentFixture(infra, {
      PORT: '0',
      NATS_URL: infra.natsUrl!,
      MONGO_URL: `${infra.mongoUrl}/${database}`,
      REDIS_URL: infra.redisUrl!,
      MESH_ADMIN_TOKEN: ADMIN_TOKEN,
      NATS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
      CAMPAIGN_TIMER_POLL_MS: '50',
      LOG_LEVEL: 'silent',
      ...env,
    });
    fixture.mongo = new MongoClient(infra.mongoUrl!);
    fixture.db = fixture.mongo.db(database);
    await fixture.boot();
    fixture.tap = await MessageTap.open(infra.natsUrl!, '>');
    return fixture;
  }

  async boot(): Promise<void> {
    this.service = await bootService(enrichmentSpec(this.env));
  }

  /** Stops the service as a deploy would, and starts it again on the same servers and state. */
  async restart(): Promise<void> {
    await this.service.close();
    await this.boot();
  }

  get clock(): Clock {
    return this.service.app.get(Clock);
  }

  get publisher(): MessagePublisher {
    return this.service.app.get(MessagePublisher);
  }

  async api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    token = ADMIN_TOKEN,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.service.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async close(): Promise<void> {
    await this.tap?.close();
    await this.service?.close();
    await this.mongo?.close();
    await this.infra.stop();
  }
}

export function example(name: string): Record<string, unknown> {
  return JSON.parse(
    readFileSync(join(repoRoot(), 'apps/enrichment/examples', `${name}.json`), 'utf8'),
  ) as Record<string, unknown>;
}

export function track(
  profileId: string,
  event: string,
  properties: Record<string, unknown>,
  options: { occurredAt?: string; traits?: Record<string, unknown> } = {},
): Envelope<ResolvedTrackPayload> {
  return originEnvelope({
    type: 'track',
    source: 'test-source',
    occurredAt: options.occurredAt ?? new Date().toISOString(),
    profileId,
    data: {
      messageId: randomUUID(),
      userId: profileId,
      event,
      properties,
      ...(options.traits ? { context: { traits: options.traits } } : {}),
      identifiers: [{ type: 'user_id', value: profileId }],
    },
  });
}

export function identify(
  profileId: string,
  traits: Record<string, unknown>,
  occurredAt = new Date().toISOString(),
): Envelope<ResolvedIdentifyPayload> {
  return originEnvelope({
    type: 'identify',
    source: 'test-source',
    occurredAt,
    profileId,
    data: {
      messageId: randomUUID(),
      userId: profileId,
      traits,
      identifiers: [{ type: 'user_id', value: profileId }],
    },
  });
}
