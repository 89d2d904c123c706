import type pg from "pg";

// The one reset every engine that is real PostgreSQL uses (PGlite in repo mode, the server in cluster
// mode): installed once after the migrations, it records what the migrations left (rows, sequences, the
// catalog) in a control schema, marks tables dirty with statement-level triggers, and puts them back with
// one server-side function call. A change to the catalog (a test created a table, a column, a type...)
// is detected by a fingerprint and answered with a rebuild, which each engine does its own way.

/** Something that runs SQL: a pg Pool or a client. */
export type Queryable = Pick<pg.ClientBase, "query">;

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes an SQL string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Name of the dirty-marking trigger put on every table the migrations created. */
export const DIRTY_TRIGGER = "zz_test_support_dirty";

/** The catalog fingerprint of a schema: changes when a table, column, index, type, function, constraint or trigger appears, goes or changes shape; not when rows change or a table is truncated. */
function fingerprintSql(ctl: string): string {
  // PL/pgSQL, so the plans of these catalog queries are cached for the session instead of made per call.
  return `
create function ${ctl}.fingerprint(ns oid) returns text language plpgsql stable as $fp$
declare
  result text;
begin
  select concat_ws('|',
    (select md5(coalesce(string_agg(concat_ws(':', c.relname, c.relkind, c.relnatts, c.relchecks), ',' order by c.relname), ''))
       from pg_catalog.pg_class c where c.relnamespace = ns),
    (select md5(coalesce(string_agg(concat_ws(':', a.attrelid, a.attname, a.atttypid, a.attnotnull, a.atthasdef), ',' order by a.attrelid, a.attnum), ''))
       from pg_catalog.pg_attribute a
       where a.attrelid in (select c.oid from pg_catalog.pg_class c where c.relnamespace = ns) and a.attnum > 0 and not a.attisdropped),
    (select count(*) from pg_catalog.pg_type t where t.typnamespace = ns),
    (select count(*) from pg_catalog.pg_proc p where p.pronamespace = ns),
    (select count(*) from pg_catalog.pg_constraint k where k.connamespace = ns),
    (select count(*) from pg_catalog.pg_trigger g where g.tgrelid in (select c.oid from pg_catalog.pg_class c where c.relnamespace = ns)),
    (select count(*) from pg_catalog.pg_attrdef d where d.adrelid in (select c.oid from pg_catalog.pg_class c where c.relnamespace = ns)))
  into result;
  return result;
end
$fp$`;
}

function resetFunctionSql(ctl: string): string {
  return `
create function ${ctl}.reset(leftover int[] default '{}') returns text language plpgsql as $reset$
declare
  r record;
  s record;
begin
  -- Test data needs no durable commit: not waiting for the WAL flush is most of a reset's cost on a server.
  perform pg_catalog.set_config('synchronous_commit', 'off', true);
  -- Sessions a test left in a transaction hold locks the deletes below would wait for.
  if cardinality(leftover) > 0 then
    perform pg_catalog.pg_terminate_backend(p, 2000) from unnest(leftover) p;
  end if;
  -- DDL in the schema since the migrations: recorded by event triggers where they fire, else seen in the catalog.
  if (select ddl_seen from ${ctl}.meta) then
    return 'rebuild';
  end if;
  if (select fingerprint from ${ctl}.meta) is not null
    and ${ctl}.fingerprint((select ns from ${ctl}.meta)) is distinct from (select fingerprint from ${ctl}.meta) then
    return 'rebuild';
  end if;
  -- Deletes go children first, so no foreign key breaks; rows the migrations inserted that are intact stay.
  for r in select t.rel, t.seed, t.tcols, t.scols from ${ctl}.tables t join ${ctl}.dirty d on d.rel = t.rel order by t.ord loop
    if r.seed is null then
      execute format('delete from %s', r.rel::regclass);
    else
      execute format('delete from %s t where not exists (select from %s s where row(%s)::text = row(%s)::text)',
        r.rel::regclass, r.seed, r.scols, r.tcols);
    end if;
  end loop;
  -- Then the migrations' rows that are missing go back, parents first. The dirty set is read again: a
  -- cascade from the deletes above may have removed rows of a table the test never touched.
  for r in select t.rel, t.seed, t.cols, t.tcols, t.scols from ${ctl}.tables t join ${ctl}.dirty d on d.rel = t.rel where t.seed is not null order by t.ord desc loop
    execute format('insert into %s (%s) overriding system value select %s from %s s where not exists (select from %s t where row(%s)::text = row(%s)::text)',
      r.rel::regclass, r.cols, r.scols, r.seed, r.rel::regclass, r.tcols, r.scols);
  end loop;
  delete from ${ctl}.dirty;
  for s in select q.seq, q.last_value, q.is_called from ${ctl}.sequences q loop
    if pg_catalog.pg_sequence_last_value(s.seq) is distinct from (case when s.is_called then s.last_value end) then
      perform pg_catalog.setval(s.seq, s.last_value, s.is_called);
    end if;
  end loop;
  return 'ok';
end
$reset$`;
}

/** Orders tables so that a table referencing another comes first (deletes then never break a foreign key). */
function childrenFirst(
  tables: readonly number[],
  references: ReadonlyArray<[child: number, parent: number]>,
) {
  const parentsOf = new Map<number, number[]>();
  for (const [child, parent] of references) {
    if (child === parent) continue;
    parentsOf.set(parent, [...(parentsOf.get(parent) ?? []), child]);
  }
  const order: number[] = [];
  const state = new Map<number, "visiting" | "done">();
  // A table is placed after every table that references it: visit referencing tables (children) first.
  const visit = (rel: number) => {
    if (state.has(rel)) return;
    state.set(rel, "visiting");
    for (const child of parentsOf.get(rel) ?? []) visit(child);
    state.set(rel, "done");
    order.push(rel);
  };
  for (const rel of tables) visit(rel);
  return order;
}

/**
 * Installs the reset machinery for `schema` (where the migrations ran) in `ctl`, recording the current
 * state as the one every reset returns to. Runs in one transaction on `db`.
 */
export async function installReset(db: Queryable, schema: string, ctl: string): Promise<void> {
  const c = quoteIdent(ctl);
  await db.query("begin");
  try {
    const ns = (
      await db.query<{ oid: number }>("select oid from pg_catalog.pg_namespace where nspname = $1", [schema])
    ).rows[0]?.oid;
    if (ns === undefined) throw new Error(`schema ${schema} does not exist`);
    await db.query(`create schema ${c}`);
    await db.query(`create unlogged table ${c}.dirty (rel oid primary key)`);
    await db.query(
      `create table ${c}.tables (rel oid primary key, ord int not null, seed text, cols text not null, tcols text not null, scols text not null)`,
    );
    await db.query(
      `create table ${c}.sequences (seq oid primary key, last_value bigint not null, is_called boolean not null)`,
    );
    await db.query(
      `create table ${c}.meta (ns oid not null, fingerprint text, ddl_seen boolean not null default false)`,
    );
    await db.query(`create function ${c}.mark() returns trigger language plpgsql as $mark$
begin
  insert into ${c}.dirty values (TG_RELID) on conflict do nothing;
  return null;
end
$mark$`);
    await db.query(fingerprintSql(c));
    await db.query(resetFunctionSql(c));

    const tables = (
      await db.query<{ oid: number; name: string }>(
        "select oid, relname as name from pg_catalog.pg_class where relnamespace = $1 and relkind in ('r', 'p') order by relname",
        [ns],
      )
    ).rows;
    const references = (
      await db.query<{ child: number; parent: number }>(
        `select k.conrelid as child, k.confrelid as parent from pg_catalog.pg_constraint k
         join pg_catalog.pg_class c on c.oid = k.conrelid where k.contype = 'f' and c.relnamespace = $1`,
        [ns],
      )
    ).rows.map((r) => [r.child, r.parent] as [number, number]);
    const order = childrenFirst(
      tables.map((t) => t.oid),
      references,
    );
    let seeds = 0;
    for (const table of tables) {
      const qualified = `${quoteIdent(schema)}.${quoteIdent(table.name)}`;
      const names = (
        await db.query<{ name: string }>(
          `select attname as name from pg_catalog.pg_attribute
           where attrelid = $1 and attnum > 0 and not attisdropped and attgenerated = '' order by attnum`,
          [table.oid],
        )
      ).rows.map((r) => quoteIdent(r.name));
      const cols = names.join(", ");
      const hasRows = (await db.query(`select 1 from ${qualified} limit 1`)).rowCount ?? 0;
      let seed: string | null = null;
      if (hasRows > 0 && cols) {
        seed = `${c}.${quoteIdent(`seed_${++seeds}`)}`;
        await db.query(`create table ${seed} as select ${cols} from ${qualified}`);
      }
      await db.query(`insert into ${c}.tables values ($1, $2, $3, $4, $5, $6)`, [
        table.oid,
        order.indexOf(table.oid),
        seed,
        cols,
        names.map((n) => `t.${n}`).join(", "),
        names.map((n) => `s.${n}`).join(", "),
      ]);
      await db.query(
        `create trigger ${DIRTY_TRIGGER} after insert or update or delete or truncate on ${qualified} for each statement execute function ${c}.mark()`,
      );
    }
    await db.query(
      `insert into ${c}.sequences
       select c.oid, coalesce(s.last_value, s.start_value), s.last_value is not null
       from pg_catalog.pg_sequences s join pg_catalog.pg_class c on c.relname = s.sequencename and c.relnamespace = $1
       where s.schemaname = $2`,
      [ns, schema],
    );
    await db.query(`insert into ${c}.meta (ns, fingerprint) values ($1, ${c}.fingerprint($1))`, [ns]);
    if (await watchDdl(db, schema, ctl)) await db.query(`update ${c}.meta set fingerprint = null`);
    await db.query("commit");
  } catch (error) {
    await db.query("rollback").catch(() => {});
    throw error;
  }
}

/**
 * Where event triggers fire (a superuser on a server; not PGlite's single-user backend), DDL in the schema
 * is recorded as it happens, so a reset need not read the catalog. Returns whether they are in place.
 */
async function watchDdl(db: Queryable, schema: string, ctl: string): Promise<boolean> {
  const c = quoteIdent(ctl);
  const superuser = await db.query<{ yes: boolean }>(
    "select rolsuper as yes from pg_catalog.pg_roles where rolname = current_user",
  );
  if (!superuser.rows[0]?.yes) return false;
  await db.query("savepoint watch_ddl");
  try {
    const mine = quoteLiteral(schema);
    await db.query(`create function ${c}.on_ddl() returns event_trigger language plpgsql as $ddl$
begin
  if exists (select from pg_catalog.pg_event_trigger_ddl_commands() d where d.schema_name = ${mine}) then
    update ${c}.meta set ddl_seen = true;
  end if;
end
$ddl$`);
    await db.query(`create function ${c}.on_drop() returns event_trigger language plpgsql as $drop$
begin
  if exists (select from pg_catalog.pg_event_trigger_dropped_objects() d where d.schema_name = ${mine}) then
    update ${c}.meta set ddl_seen = true;
  end if;
end
$drop$`);
    // Event trigger names are per database: the schema's name (unique, at most 59 characters) keeps them apart.
    await db.query(
      `create event trigger ${quoteIdent(`${schema}_d`)} on ddl_command_end execute function ${c}.on_ddl()`,
    );
    await db.query(
      `create event trigger ${quoteIdent(`${schema}_x`)} on sql_drop execute function ${c}.on_drop()`,
    );
    // Prove they fire here: a table created and dropped must be seen.
    await db.query(`create table ${quoteIdent(schema)}.test_support_probe ()`);
    await db.query(`drop table ${quoteIdent(schema)}.test_support_probe`);
    const seen = await db.query<{ yes: boolean }>(`select ddl_seen as yes from ${c}.meta`);
    if (!seen.rows[0]?.yes) throw new Error("event triggers do not fire here");
    await db.query(`update ${c}.meta set ddl_seen = false`);
    await db.query("release savepoint watch_ddl");
    return true;
  } catch {
    await db.query("rollback to savepoint watch_ddl");
    return false;
  }
}

/** Calls the reset function; "rebuild" means the catalog changed and the engine must rebuild the schema. */
export async function runReset(
  db: Queryable,
  ctl: string,
  leftover: readonly number[] = [],
): Promise<"ok" | "rebuild"> {
  const result = await db.query<{ outcome: "ok" | "rebuild" }>(
    `select ${quoteIdent(ctl)}.reset($1) as outcome`,
    [leftover],
  );
  return result.rows[0]?.outcome ?? "rebuild";
}
