import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SERVICES, type ServiceName } from '@mesh/contracts';

/** A port the local runtime listens on, with the variable that overrides it. */
export interface LocalPort {
  readonly owner: string;
  readonly variable: string;
  readonly port: number;
}

export interface LocalConfig {
  readonly rootDir: string;
  readonly dataDir: string;
  readonly nats: LocalPort;
  readonly redis: LocalPort;
  readonly mongo: LocalPort;
  readonly postgres: LocalPort;
  readonly smtp: LocalPort;
  readonly mailboxWeb: LocalPort;
  readonly services: ReadonlyArray<LocalPort & { readonly name: ServiceName }>;
  readonly adminToken: string;
  readonly demoWriteKey: string;
  readonly logLevel: string;
  readonly otlpEndpoint: string | undefined;
}

const DEFAULT_SERVICE_PORTS: Record<ServiceName, number> = {
  ingest: 3001,
  identity: 3002,
  enrichment: 3003,
  recommendation: 3004,
  renderer: 3005,
  delivery: 3006,
};

export class LocalConfigError extends Error {}

/** The ports and secrets of `npm start`, each overridable by an environment variable. */
export function readLocalConfig(env: NodeJS.ProcessEnv, rootDir: string): LocalConfig {
  const problems: string[] = [];
  const port = (owner: string, variable: string, fallback: number): LocalPort => {
    const raw = env[variable];
    const value = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 65_535) {
      problems.push(`${variable}=${raw} is not a port number (1-65535).`);
    }
    return { owner, variable, port: value };
  };
  const config: LocalConfig = {
    rootDir,
    dataDir: join(rootDir, '.data'),
    nats: port('NATS', 'NATS_PORT', 4222),
    redis: port('Redis', 'REDIS_PORT', 6379),
    mongo: port('FerretDB', 'MONGO_PORT', 27017),
    // FerretDB's store; not 5432, which a PostgreSQL of the machine's own may hold.
    postgres: port('PostgreSQL', 'POSTGRES_PORT', 5433),
    smtp: port('mailbox SMTP', 'SMTP_PORT', 2525),
    mailboxWeb: port('mailbox web', 'MAILBOX_PORT', 8025),
    services: SERVICES.map((name) => ({
      name,
      ...port(name, `${name.toUpperCase()}_PORT`, DEFAULT_SERVICE_PORTS[name]),
    })),
    adminToken: env.MESH_ADMIN_TOKEN || randomBytes(24).toString('base64url'),
    demoWriteKey: env.MESH_DEMO_WRITE_KEY || `wk_demo_${randomBytes(12).toString('hex')}`,
    logLevel: env.LOG_LEVEL || 'info',
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
  };
  if (problems.length > 0) throw new LocalConfigError(problems.join('\n'));
  return config;
}

/** Every port, for the "already in use" check before anything starts. */
export function allPorts(config: LocalConfig): LocalPort[] {
  return [
    config.nats,
    config.redis,
    config.mongo,
    config.postgres,
    config.smtp,
    config.mailboxWeb,
    ...config.services,
  ];
}

export function servicePort(config: LocalConfig, name: ServiceName): number {
  const service = config.services.find((candidate) => candidate.name === name);
  if (!service) throw new Error(`No port for ${name}.`);
  return service.port;
}
