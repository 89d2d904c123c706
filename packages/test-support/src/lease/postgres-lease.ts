// Leases on a PostgreSQL server: a row per schema an environment owns, in a table of the test database
// itself, whose expiry (the server's clock) a heartbeat pushes forward. The sweep drops the schemas of
// expired rows, and nothing else.
import pg from "pg";
import { errorText } from "../errors.js";
import { quoteIdent } from "../postgres/reset-sql.js";
import type { SweepReport, SweptObject } from "./lease.js";

/** The schema holding the lease table; not `it_`-prefixed, so it is never mistaken for an environment's. */
export const LEASE_SCHEMA = "test_support_leases";
const TABLE = `${LEASE_SCHEMA}.schemas`;
/** The only names a lease may drop: an environment's schema (its `_ctl` companion goes with it). */
const OWNED_SCHEMA = /^it_[a-z0-9_]{1,56}$/;

type Queryable = Pick<pg.Pool, "query">;

async function ensureTable(db: Queryable): Promise<void> {
  const create = async () => {
    await db.query(`create schema if not exists ${LEASE_SCHEMA}`);
    await db.query(
      `create table if not exists ${TABLE} (
        schema_name text primary key,
        holder text not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null
      )`,
    );
  };
  try {
    await create();
  } catch (error) {
    // Two processes creating it at once: one loses on the catalog's unique index; the second try sees it.
    const code = (error as { code?: string }).code;
    if (code !== "23505" && code !== "42P06" && code !== "42P07") throw error;
    await create();
  }
}

/** A registered schema lease: renew() pushes the expiry forward, release() removes the row. */
export interface SchemaLease {
  renew(): Promise<void>;
  release(): Promise<void>;
}

/** Registers `schema` (and `<schema>_ctl`) as owned by `holder` for `leaseMs`, before the schema exists. */
export async function registerSchemaLease(
  db: Queryable,
  schema: string,
  holder: string,
  leaseMs: number,
): Promise<SchemaLease> {
  await ensureTable(db);
  await db.query(
    `insert into ${TABLE} (schema_name, holder, expires_at)
     values ($1, $2, now() + $3 * interval '1 millisecond')
     on conflict (schema_name) do update set holder = excluded.holder, expires_at = excluded.expires_at`,
    [schema, holder, leaseMs],
  );
  return {
    async renew() {
      await db.query(
        `update ${TABLE} set expires_at = now() + $2 * interval '1 millisecond' where schema_name = $1`,
        [schema, leaseMs],
      );
    },
    async release() {
      await db.query(`delete from ${TABLE} where schema_name = $1`, [schema]);
    },
  };
}

/**
 * Drops the schemas of every expired lease in the database `connectionString` names (or, with `dryRun`,
 * only lists them). Each schema goes in its own transaction, with its row, and only while the row is still
 * expired, so a holder that renewed meanwhile keeps its schema.
 */
export async function sweepPostgres(
  connectionString: string,
  server: string,
  options: { dryRun: boolean; timeoutMs: number },
): Promise<SweepReport> {
  const client = new pg.Client({
    connectionString,
    connectionTimeoutMillis: options.timeoutMs,
    statement_timeout: options.timeoutMs,
    query_timeout: options.timeoutMs + 1000,
    application_name: "test-support sweep",
  });
  await client.connect();
  const expired: SweptObject[] = [];
  const failed: { object: string; error: string }[] = [];
  try {
    const exists = await client.query<{ found: boolean }>("select to_regclass($1) is not null as found", [
      TABLE,
    ]);
    if (!exists.rows[0]?.found) return { server, expired, live: 0, failed };
    const rows = await client.query<{ schema_name: string; holder: string; expired: boolean }>(
      `select schema_name, holder, expires_at < now() as expired from ${TABLE} order by schema_name`,
    );
    const live = rows.rows.filter((row) => !row.expired).length;
    for (const row of rows.rows.filter((r) => r.expired)) {
      const object = `schemas ${row.schema_name}, ${row.schema_name}_ctl`;
      if (!OWNED_SCHEMA.test(row.schema_name)) {
        failed.push({ object, error: "not an environment's schema name; left alone" });
        continue;
      }
      if (options.dryRun) {
        expired.push({ object, holder: row.holder });
        continue;
      }
      try {
        await client.query("begin");
        const still = await client.query(
          `select 1 from ${TABLE} where schema_name = $1 and expires_at < now() for update skip locked`,
          [row.schema_name],
        );
        if (still.rowCount === 0) {
          await client.query("rollback");
          continue;
        }
        await client.query(
          `drop schema if exists ${quoteIdent(row.schema_name)}, ${quoteIdent(`${row.schema_name}_ctl`)} cascade`,
        );
        await client.query(`delete from ${TABLE} where schema_name = $1`, [row.schema_name]);
        await client.query("commit");
        expired.push({ object, holder: row.holder });
      } catch (error) {
        await client.query("rollback").catch(() => {});
        failed.push({ object, error: errorText(error) });
      }
    }
    return { server, expired, live, failed };
  } finally {
    await client.end().catch(() => {});
  }
}
