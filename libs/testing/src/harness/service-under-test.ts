import { type ServiceName } from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { type Environment, type ServiceSpec } from '@mesh/runtime';
import { type Db, MongoClient } from 'mongodb';
import { type Infra, startInfra } from '../infra/infra.js';
import { uniqueName } from '../infra/unique-name.js';
import { bootService, type BootedService } from './boot-service.js';
import { MessageTap } from './message-tap.js';

export interface ServiceUnderTest {
  infra: Infra;
  natsUrl: string;
  /** Set when the service was started with Redis. */
  redisUrl: string | undefined;
  service: BootedService;
  publisher: MessagePublisher;
  /** Sees every message on `tap` (by default the service's own subjects). */
  tap: MessageTap;
  /** The service's own database, for the test to read its state. */
  db: Db;
  close(): Promise<void>;
}

export interface ServiceUnderTestOptions {
  name: ServiceName;
  /** The app's `<service>Spec` function. */
  spec: (env: Environment) => ServiceSpec;
  redis?: boolean;
  /** More variables for the service (MESH_DEMO, SMTP_URL…). */
  env?: Record<string, string>;
  /** Subjects the tap listens to; the service's own by default. */
  tap?: string;
}

/**
 * One service booted in this process against its own nats-server, FerretDB (a fresh database) and,
 * if asked, redis-server — the setup every service's integration spec shares.
 */
export async function startServiceUnderTest(options: ServiceUnderTestOptions): Promise<ServiceUnderTest> {
  const infra = await startInfra({ nats: true, mongo: true, redis: options.redis ?? false });
  const natsUrl = infra.natsUrl!;
  const database = uniqueName(options.name);
  const mongo = new MongoClient(infra.mongoUrl!);
  let service: BootedService | undefined;
  let tap: MessageTap | undefined;
  const close = async () => {
    await tap?.close();
    await service?.close();
    await mongo.close();
    await infra.stop();
  };
  try {
    service = await bootService(
      options.spec({
        PORT: '0',
        NATS_URL: natsUrl,
        MONGO_URL: `${infra.mongoUrl}/${database}`,
        ...(infra.redisUrl ? { REDIS_URL: infra.redisUrl } : {}),
        MESH_ADMIN_TOKEN: `${options.name}-test-admin-token`,
        NATS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
        LOG_LEVEL: 'silent',
        ...options.env,
      }),
    );
    tap = await MessageTap.open(natsUrl, options.tap ?? `${options.name}.>`);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    infra,
    natsUrl,
    redisUrl: infra.redisUrl,
    service,
    publisher: service.app.get(MessagePublisher),
    tap,
    db: mongo.db(database),
    close,
  };
}
