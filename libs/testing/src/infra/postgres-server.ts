import { execFile } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { assertAcceptsConnections } from './ports.js';
import { type SystemUser } from './server-process.js';
import { startServer, type RunningServer, type ServerDefinition, type ServerOptions } from './server.js';
import { requireTool } from './tools.js';

const run = promisify(execFile);

/** The superuser initdb creates; local connections are trusted (loopback only, no password). */
export const POSTGRES_SUPERUSER = 'postgres';

export interface PostgresOptions extends ServerOptions {
  /**
   * Flush every commit to disk (the local runtime's data outlives a crash). Tests skip fsync: their
   * data is thrown away and usually lives on tmpfs anyway.
   */
  durable?: boolean;
}

/**
 * A PostgreSQL cluster (Debian's binaries) bound to 127.0.0.1, created with initdb on first use; url is
 * `postgres://postgres@127.0.0.1:<port>` without a database. As root it runs as the `postgres` system
 * user, since PostgreSQL refuses to run as root.
 */
export function startPostgres(options: PostgresOptions = {}): Promise<RunningServer> {
  return startServer(postgresDefinition(options.durable ?? false), options);
}

function postgresDefinition(durable: boolean): ServerDefinition {
  const user = serverUser();
  return {
    tool: 'postgres',
    readyTimeoutMs: 30_000,
    preferTmpfs: true,
    user,
    url: (port) => `postgres://${POSTGRES_SUPERUSER}@127.0.0.1:${port}`,
    prepare: (dataDir) => initCluster(dataDir, user, durable),
    args: (port, dataDir) => [
      ...['-D', dataDir, '-p', String(port)],
      ...settings({
        listen_addresses: '127.0.0.1',
        unix_socket_directories: '',
        // FerretDB needs a connection per operation in flight (see mongo-server.ts), and a test run has
        // one FerretDB per test file: far more than the default 100, opened only as needed.
        max_connections: '1000',
        // FerretDB sends `_jsonb->$1 @> $2` as a prepared statement; only a custom plan, which sees the
        // field name, can use the GIN companion of that field. Generic plans would read every row.
        plan_cache_mode: 'force_custom_plan',
        ...(durable ? {} : { fsync: 'off', full_page_writes: 'off', synchronous_commit: 'off' }),
        log_min_messages: 'warning',
        log_min_error_statement: 'panic',
        log_checkpoints: 'off',
        // Counts per statement, for the scan budget test and for finding slow queries by hand.
        shared_preload_libraries: 'pg_stat_statements',
        'pg_stat_statements.track': 'all',
      }),
    ],
    probe: assertPostgresAnswers,
  };
}

function settings(values: Record<string, string>): string[] {
  return Object.entries(values).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

/** The `postgres` system user when running as root; undefined (run as the current user) otherwise. */
function serverUser(): SystemUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = systemUserIds(POSTGRES_SUPERUSER);
  if (!ids) {
    throw new Error(
      'PostgreSQL refuses to run as root and there is no `postgres` system user to run it as. ' +
        'Create one (`useradd --system --user-group postgres`) or run as another user.',
    );
  }
  return { name: POSTGRES_SUPERUSER, ...ids };
}

/** uid and gid of `name` from /etc/passwd, or undefined when there is no such user. */
function systemUserIds(name: string): { uid: number; gid: number } | undefined {
  const line = readPasswd()
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function readPasswd(): string {
  try {
    return readFileSync('/etc/passwd', 'utf8');
  } catch {
    return '';
  }
}

/** initdb into `dataDir` unless it already holds a cluster. */
async function initCluster(dataDir: string, user: SystemUser | undefined, durable: boolean): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  if (readdirSync(dataDir).length > 0) {
    throw new Error(`${dataDir} is not empty and holds no PostgreSQL cluster; move it away or empty it.`);
  }
  if (user) chownSync(dataDir, user.uid, user.gid);
  const args = [
    ...['-D', dataDir, '-U', POSTGRES_SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C'],
    ...(durable ? [] : ['--no-sync']),
  ];
  try {
    await run(requireTool('initdb'), args, { uid: user?.uid, gid: user?.gid });
  } catch (error) {
    const output = (error as { stderr?: string }).stderr ?? (error as Error).message;
    const hint = user
      ? `\nIt ran as the ${user.name} user, which must be able to enter every folder above ${dataDir}.`
      : '';
    throw new Error(`initdb ${args.join(' ')} failed:\n${output.trim()}${hint}`, { cause: error });
  }
}

async function assertPostgresAnswers(url: string): Promise<void> {
  await assertAcceptsConnections(Number(new URL(url).port));
  await withPostgres(`${url}/postgres`, (client) => client.query('SELECT 1'));
}

/** Runs `use` with a connected client of `url` (a database URL), and closes it. */
export async function withPostgres<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
