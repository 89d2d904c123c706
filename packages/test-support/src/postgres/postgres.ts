import pg from "pg";
import { newDb } from "pg-mem";
import type { Dependency, DependencyContext, DependencyHandle } from "../dependency.js";
import { errorText, TestSupportError } from "../errors.js";
import { redactTarget, scrub, secretsOf } from "../redact.js";
import { readUrlVariable } from "../variables.js";
import { type Migration, readMigrations } from "./migrations.js";
import { assertCleanupAllowed } from "./safety.js";
import { reportSqlState } from "./sqlstate.js";

/** Options of the postgres dependency. */
export interface PostgresOptions {
  /** Folder of `.sql` migrations, applied in name order. Use unqualified names so they land in the run's schema. */
  migrations: URL | string;
  /** The variable holding the connection URL in cluster mode, e.g. "PLATFORM_DATABASE_URL". */
  urlEnv: string;
  /** Allow reset/close against a database whose name does not contain "test". */
  allowNonTestDatabase?: boolean;
  /** Most connections the live pool opens (default 5). */
  maxConnections?: number;
}

/** The client every mode hands out: a `pg` Pool (pg-mem's adapter in repo/local). */
export type PostgresClient = pg.Pool;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A schema name owned by one environment: it_<service>_<instance>. */
export function schemaNameFor(service: string, instanceId: string): string {
  return `it_${service.replace(/[^a-z0-9]/g, "_").slice(0, 24)}_${instanceId}`;
}

/**
 * A Postgres dependency. repo/local: pg-mem with the migrations applied once, snapshotted and restored
 * on reset. cluster: a `pg` Pool with the migrations applied in a schema of its own, truncated on reset
 * and dropped on close.
 */
export function postgres(options: PostgresOptions): Dependency<PostgresClient> {
  if (!options || (typeof options.migrations !== "string" && !(options.migrations instanceof URL))) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      'postgres() needs a migrations folder: postgres({ migrations: new URL("../migrations", import.meta.url), urlEnv: "APP_DATABASE_URL" }).',
    );
  }
  if (typeof options.urlEnv !== "string" || !/^[A-Z][A-Z0-9_]*$/.test(options.urlEnv)) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `postgres() needs urlEnv, the name of the variable holding the URL (upper case, e.g. "APP_DATABASE_URL"); got ${JSON.stringify(options.urlEnv)}.`,
    );
  }
  let migrations: Promise<Migration[]> | undefined;
  const loadMigrations = () => {
    migrations ??= readMigrations(options.migrations);
    return migrations;
  };

  return {
    kind: "postgres",
    variables: [options.urlEnv],
    describeTarget(env) {
      return redactTarget(env[options.urlEnv] ?? "");
    },
    async double(): Promise<DependencyHandle<PostgresClient>> {
      const db = newDb({ autoCreateForeignKeyIndices: true });
      for (const migration of await loadMigrations()) {
        try {
          db.public.none(migration.sql);
        } catch (error) {
          throw new TestSupportError(
            "MIGRATION_FAILED",
            `migration ${migration.name} failed on pg-mem: ${(error as Error).message.split("\n")[0]}. ` +
              "Fix the SQL, or if pg-mem lacks the feature, keep it out of the migrations the suite needs.",
            { cause: error },
          );
        }
      }
      const snapshot = db.backup();
      const { Pool } = db.adapters.createPg();
      const pool = reportSqlState(new Pool() as PostgresClient);
      return {
        client: pool,
        implementation: "pg-mem",
        target: "in-process",
        async reset() {
          snapshot.restore();
        },
        async close() {
          await pool.end();
        },
      };
    },
    async live(context: DependencyContext): Promise<DependencyHandle<PostgresClient>> {
      const raw = context.env[options.urlEnv] ?? "";
      const url = readUrlVariable(
        context.env,
        options.urlEnv,
        "postgres",
        ["postgres:", "postgresql:"],
        "postgres://user:password@host:5432/app_test",
      );
      const target = redactTarget(raw);
      const secrets = secretsOf(raw);
      const allowNonTestDatabase = options.allowNonTestDatabase === true;
      const named = decodeURIComponent(url.pathname.replace(/^\//, ""));
      if (named)
        assertCleanupAllowed({ database: named, target, urlEnv: options.urlEnv, allowNonTestDatabase });
      const list = await loadMigrations();

      const schema = schemaNameFor(context.service, context.instanceId);
      const pool = new pg.Pool({
        connectionString: raw,
        // The factory enforces the bound; this backstop only frees the socket after it gave up.
        connectionTimeoutMillis: context.connectTimeoutMs + 1000,
        max: options.maxConnections ?? 5,
        options: `-c search_path=${schema}`,
      });
      // An idle client that loses its server must not crash the test process.
      pool.on("error", () => {});
      const fail = async (error: unknown, what: string): Promise<never> => {
        await pool.end().catch(() => {});
        if (error instanceof TestSupportError) throw error;
        throw new TestSupportError(
          "CONNECT_FAILED",
          `postgres at ${target} failed while ${what}: ${scrub(errorText(error), secrets)}. ` +
            `Check that the server is up and that ${options.urlEnv} has the right host, port, user and database.`,
        );
      };
      let database: string;
      try {
        const result = await pool.query<{ db: string }>("select current_database() as db");
        database = result.rows[0]?.db ?? named;
        context.connected();
      } catch (error) {
        return fail(error, "connecting");
      }
      try {
        assertCleanupAllowed({ database, target, urlEnv: options.urlEnv, allowNonTestDatabase });
        if (context.signal.aborted) throw new Error("aborted: connect time bound passed");
        await pool.query(`create schema ${quoteIdent(schema)}`);
      } catch (error) {
        return fail(error, `creating schema ${schema}`);
      }
      const client = await pool.connect().catch((error: unknown) => fail(error, "connecting"));
      try {
        for (const migration of list) {
          try {
            await client.query("begin");
            await client.query(migration.sql);
            await client.query("commit");
          } catch (error) {
            await client.query("rollback").catch(() => {});
            throw new TestSupportError(
              "MIGRATION_FAILED",
              `migration ${migration.name} failed in schema ${schema} at ${target}: ${scrub(errorText(error), secrets)}.`,
              { cause: error },
            );
          }
        }
      } catch (error) {
        client.release();
        await pool.query(`drop schema if exists ${quoteIdent(schema)} cascade`).catch(() => {});
        return fail(error, "applying migrations");
      }
      client.release();

      const tables = async () =>
        (
          await pool.query<{ name: string }>(
            "select tablename as name from pg_tables where schemaname = $1",
            [schema],
          )
        ).rows.map((row) => `${quoteIdent(schema)}.${quoteIdent(row.name)}`);

      return {
        client: pool,
        implementation: "pg",
        target: `${target} (schema ${schema})`,
        async reset() {
          const owned = await tables();
          if (owned.length > 0)
            await pool.query(`truncate table ${owned.join(", ")} restart identity cascade`);
        },
        async close() {
          try {
            await pool.query(`drop schema if exists ${quoteIdent(schema)} cascade`);
          } finally {
            await pool.end();
          }
        },
      };
    },
  };
}
