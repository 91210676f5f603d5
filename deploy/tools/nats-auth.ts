import { readFileSync } from 'node:fs';
import { type ConnectionOptions, credsAuthenticator } from '@nats-io/transport-node';

export interface NatsAuthInput {
  /** A user of the cluster's auth.conf (operators use `admin`) and its password. */
  user?: string;
  password?: string;
  /** A `.creds` file (JWT + NKey seed) for clusters with decentralized (operator/account) auth. */
  creds?: string;
}

/**
 * How an operator tool authenticates to NATS: flags first, then NATS_USER / NATS_PASSWORD /
 * NATS_CREDS from the environment; user/password and creds are exclusive. Without any, it connects
 * anonymously (the local runtime's nats-server).
 */
export function natsAuthOptions(
  flags: NatsAuthInput,
  env: Readonly<Record<string, string | undefined>> = process.env,
  readFile: (path: string) => Uint8Array = (path) => readFileSync(path),
): Pick<ConnectionOptions, 'user' | 'pass' | 'authenticator'> {
  const user = flags.user ?? env.NATS_USER;
  const password = flags.password ?? env.NATS_PASSWORD;
  const creds = flags.creds ?? env.NATS_CREDS;
  if (creds !== undefined && (user !== undefined || password !== undefined))
    throw new Error('use either --user/--password or --creds, not both');
  if (creds !== undefined) return { authenticator: credsAuthenticator(readFile(creds)) };
  if (user === undefined && password === undefined) return {};
  if (!user || !password)
    throw new Error('--user and --password go together (or NATS_USER and NATS_PASSWORD)');
  return { user, pass: password };
}
