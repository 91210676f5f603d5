import type pg from 'pg';

/**
 * FerretDB 1.x pushes an equality filter down to PostgreSQL as `_jsonb->'field' @> value` (`_jsonb #>
 * '{a,b}' @> value` for a nested field), but builds each MongoDB index as a btree on `(_jsonb->'field')`,
 * which `@>` cannot use: every query would read every row. This installs, in one PostgreSQL database,
 * a GIN `jsonb_path_ops` companion beside every btree index of FerretDB's tables, one per indexed field
 * (each field of a compound index), for the indexes there now and, through an event trigger, for every
 * index created later, in the same transaction. Idempotent: run it on every start.
 *
 * Local runtime and tests only: production runs a real MongoDB.
 */
export async function installIndexCompanions(client: pg.Client): Promise<number> {
  await client.query(COMPANION_FUNCTIONS);
  const { rows } = await client.query<{ created: number }>('SELECT mesh_index_companions() AS created');
  return rows[0]?.created ?? 0;
}

/** Suffix of every companion index's name. */
export const COMPANION_SUFFIX = '_gin';

const COMPANION_FUNCTIONS = String.raw`
-- The companion expression of one btree index column FerretDB made, e.g. (_jsonb -> 'email'::text)
-- gives (_jsonb -> 'email'), ((_jsonb -> 'a'::text) -> 'b'::text) gives (_jsonb #> '{a,b}'::text[]):
-- the very forms FerretDB's pushed-down filters use. NULL for any other column.
CREATE OR REPLACE FUNCTION mesh_companion_expression(index_column text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
  keys text[];
BEGIN
  IF index_column !~ '^[( ]*_jsonb -> ' THEN
    RETURN NULL;
  END IF;
  SELECT array_agg(replace(match[1], '''''', '''') ORDER BY position) INTO keys
    FROM regexp_matches(index_column, '''((?:[^'']|'''')*)''::text', 'g') WITH ORDINALITY AS m(match, position);
  IF keys IS NULL THEN
    RETURN NULL;
  ELSIF array_length(keys, 1) = 1 THEN
    RETURN format('(_jsonb -> %L)', keys[1]);
  END IF;
  RETURN format('(_jsonb #> %L::text[])', keys::text);
END
$fn$;

-- Creates the missing companions of one index (target) or of every btree index on a table with a
-- _jsonb column; returns how many it created.
CREATE OR REPLACE FUNCTION mesh_index_companions(target oid DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
  ix record;
  col integer;
  expression text;
  companion text;
  created integer := 0;
BEGIN
  FOR ix IN
    SELECT i.indexrelid, i.indnkeyatts, n.nspname, t.relname, t.relnamespace
      FROM pg_index i
      JOIN pg_class t ON t.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_am am ON am.oid = ic.relam
     WHERE am.amname = 'btree'
       AND t.relname <> '_ferretdb_database_metadata'
       AND (target IS NULL OR i.indexrelid = target)
       AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = '_jsonb')
  LOOP
    FOR col IN 1 .. ix.indnkeyatts LOOP
      expression := mesh_companion_expression(pg_get_indexdef(ix.indexrelid, col, false));
      CONTINUE WHEN expression IS NULL;
      companion := left(ix.relname, 40) || '_' || left(md5(ix.relname || ' ' || expression), 12) || '_gin';
      CONTINUE WHEN EXISTS (SELECT 1 FROM pg_class WHERE relname = companion AND relnamespace = ix.relnamespace);
      -- fastupdate off: a lookup never has to read a pending list that grows under a burst of inserts.
      EXECUTE format('CREATE INDEX %I ON %I.%I USING gin (%s jsonb_path_ops) WITH (fastupdate = off)',
                     companion, ix.nspname, ix.relname, expression);
      created := created + 1;
    END LOOP;
  END LOOP;
  RETURN created;
END
$fn$;

CREATE OR REPLACE FUNCTION mesh_index_companions_on_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  command record;
BEGIN
  FOR command IN
    SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index'
  LOOP
    PERFORM mesh_index_companions(command.objid);
  END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS mesh_index_companions;
CREATE EVENT TRIGGER mesh_index_companions ON ddl_command_end
  WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION mesh_index_companions_on_ddl();
`;
