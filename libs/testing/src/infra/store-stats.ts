import type pg from 'pg';
import { withPostgres } from './postgres-server.js';

/** How one MongoDB collection (a PostgreSQL table FerretDB made) was read since the last reset. */
export interface CollectionReads {
  /** `<database>.<collection>`, as the services name it. */
  readonly collection: string;
  readonly table: string;
  /** Rows now (the planner's count, exact after ANALYZE, plus rows inserted since the last reset). */
  readonly rows: number;
  readonly sequentialScans: number;
  /** Rows read by those sequential scans: what an index would have spared. */
  readonly rowsReadBySequentialScans: number;
  readonly indexScans: number;
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
}

/**
 * What PostgreSQL counted per collection in the database under one FerretDB (`pg_stat_user_tables`),
 * named as MongoDB collections through FerretDB's `_ferretdb_database_metadata` of each schema.
 */
export async function readCollectionStats(databaseUrl: string): Promise<CollectionReads[]> {
  return withPostgres(databaseUrl, async (client) => {
    // The counters reach the statistics views when a backend reports, at most every second.
    await client.query('SELECT pg_stat_force_next_flush()');
    const names = await collectionNames(client);
    const { rows } = await client.query<{
      schema: string;
      table: string;
      rows: string;
      seq_scan: string;
      seq_tup_read: string;
      idx_scan: string | null;
      n_tup_ins: string;
      n_tup_upd: string;
      n_tup_del: string;
    }>(
      // n_live_tup starts from zero again at a reset: the planner's reltuples keeps the table's size.
      `SELECT s.schemaname AS schema, s.relname AS table,
              GREATEST(c.reltuples, 0)::bigint + s.n_tup_ins - s.n_tup_del AS rows,
              s.seq_scan, s.seq_tup_read, s.idx_scan, s.n_tup_ins, s.n_tup_upd, s.n_tup_del
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
        WHERE s.relname <> '_ferretdb_database_metadata'`,
    );
    return rows.map((row) => ({
      collection: `${row.schema}.${names.get(`${row.schema}.${row.table}`) ?? row.table}`,
      table: `${row.schema}.${row.table}`,
      rows: Number(row.rows),
      sequentialScans: Number(row.seq_scan),
      rowsReadBySequentialScans: Number(row.seq_tup_read),
      indexScans: Number(row.idx_scan ?? 0),
      inserted: Number(row.n_tup_ins),
      updated: Number(row.n_tup_upd),
      deleted: Number(row.n_tup_del),
    }));
  });
}

/** Starts every counter of readCollectionStats (and pg_stat_statements, where loaded) from zero. */
export async function resetCollectionStats(databaseUrl: string): Promise<void> {
  await withPostgres(databaseUrl, async (client) => {
    await client.query('SELECT pg_stat_reset()');
    const { rowCount } = await client.query(
      "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'",
    );
    if (rowCount) await client.query('SELECT pg_stat_statements_reset()');
  });
}

/** Refreshes the planner's statistics of every table (after a bulk load, as autovacuum would later). */
export async function analyzeStore(databaseUrl: string): Promise<void> {
  await withPostgres(databaseUrl, (client) => client.query('ANALYZE'));
}

/** `schema.table` → collection name, from each schema's FerretDB metadata table. */
async function collectionNames(client: pg.Client): Promise<Map<string, string>> {
  const { rows: schemas } = await client.query<{ schema: string }>(
    "SELECT schemaname AS schema FROM pg_tables WHERE tablename = '_ferretdb_database_metadata'",
  );
  const names = new Map<string, string>();
  for (const { schema } of schemas) {
    const { rows } = await client.query<{ collection: string; table: string }>(
      `SELECT _jsonb->>'_id' AS collection, _jsonb->>'table' AS table FROM "${schema}"._ferretdb_database_metadata`,
    );
    for (const row of rows) names.set(`${schema}.${row.table}`, row.collection);
  }
  return names;
}

/** One SQL statement FerretDB ran, with its counts since the last reset (pg_stat_statements). */
export interface StatementCount {
  readonly query: string;
  readonly calls: number;
  readonly rows: number;
}

/** The statements run most often since the last reset, for finding what a flow asks of the store. */
export async function readTopStatements(databaseUrl: string, limit = 20): Promise<StatementCount[]> {
  return withPostgres(databaseUrl, async (client) => {
    const { rows } = await client.query<{ query: string; calls: string; rows: string }>(
      `SELECT query, calls, rows FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY calls DESC LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({ query: row.query, calls: Number(row.calls), rows: Number(row.rows) }));
  });
}
