import type pg from "pg";
import type { Dependency, DependencyContext, DependencyHandle } from "../dependency.js";
import { TestSupportError } from "../errors.js";
import { leaseHolder, leaseMsFrom } from "../lease/lease.js";
import { leaseDatabase, releaseDatabase } from "../local/client.js";
import { redactTarget, secretsOf } from "../redact.js";
import { tracedDependency } from "../trace/dependency.js";
import { readUrlVariable } from "../variables.js";
import { type Migration, readMigrations } from "./migrations.js";
import { assertCleanupAllowed } from "./safety.js";

/** The in-process engines repo mode can run (local mode runs a real server whatever this says). */
export type PostgresEngine = "pglite" | "pg-mem";

/** Options of the postgres dependency. */
export interface PostgresOptions {
  /** Folder of `.sql` migrations, applied in name order. Use unqualified names so they land in the environment's schema. */
  migrations: URL | string;
  /** The variable holding the connection URL in cluster mode, e.g. "PLATFORM_DATABASE_URL". */
  urlEnv: string;
  /**
   * The in-process engine of repo mode: "pglite" (default), real PostgreSQL compiled to WebAssembly; or
   * "pg-mem", faster to start and less faithful (see docs/postgres-pg-mem.md for what it gets wrong).
   */
  engine?: PostgresEngine;
  /** Allow reset/close against a database that is not named as a test database (see looksLikeTestDatabase). */
  allowNonTestDatabase?: boolean;
  /** Most connections the live pool opens (default 5). */
  maxConnections?: number;
}

/** The client every mode hands out: a `pg` Pool (over PGlite or pg-mem in repo, a server in local and cluster). */
export type PostgresClient = pg.Pool;

/** URL query parameters a connection may carry; anything else (options, search_path...) could undo the isolation. */
const ALLOWED_PARAMETERS = new Set([
  "sslmode",
  "ssl",
  "sslcert",
  "sslkey",
  "sslrootcert",
  "sslpassword",
  "application_name",
  "fallback_application_name",
  "connect_timeout",
  "keepalives",
  "keepalives_idle",
]);

/** Schema names claimed in this process, so two postgres() dependencies never share one. */
const CLAIMED_KEY = Symbol.for("@org/test-support/postgres-schemas");
const globals = globalThis as unknown as Record<symbol, Set<string>>;
globals[CLAIMED_KEY] ??= new Set();
const claimed = globals[CLAIMED_KEY];

function slug(text: string, max: number): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "_")
    .slice(0, max);
}

/**
 * The schema one postgres dependency of one environment owns: it_<service>_<dependency>_<instance>, with
 * a counter when one context builds several postgres dependencies (a service's double built of others).
 * At most 59 characters, so `<schema>_ctl` fits PostgreSQL's 63.
 */
export function schemaNameFor(service: string, dependency: string, instanceId: string): string {
  const base = `it_${slug(service, 12)}_${slug(dependency, 10)}_${instanceId.toLowerCase()}`;
  let name = base;
  for (let n = 2; claimed.has(name); n++) name = `${base}_${n}`;
  claimed.add(name);
  return name;
}

/** Refuses a URL whose query parameters could override the environment's schema isolation. */
function assertIsolationKept(url: URL, urlEnv: string, target: string): void {
  const refused = [...url.searchParams.keys()].filter((key) => !ALLOWED_PARAMETERS.has(key));
  if (refused.length === 0) return;
  throw new TestSupportError(
    "INVALID_OPTIONS",
    `${urlEnv} carries the parameter(s) ${refused.map((k) => `"${k}"`).join(", ")} (${target}): refused before connecting, ` +
      "because a connection parameter such as options=-c search_path=... would override the schema this environment " +
      "owns, so its reset would delete rows it does not own. Remove them; allowed are " +
      `${[...ALLOWED_PARAMETERS].join(", ")}.`,
  );
}

/**
 * A Postgres dependency. repo: PGlite, real PostgreSQL in process, started from a cached post-migration
 * snapshot (or pg-mem with `engine: "pg-mem"`). local: a database of its own on the run's embedded
 * PostgreSQL, copied from a template that holds the migrations, dropped on close. cluster: a `pg` Pool
 * with the migrations applied in a schema of its own, dropped on close. Reset returns to the
 * post-migration state in every mode (README, "Reset semantics").
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
  const engine = options.engine ?? "pglite";
  if (engine !== "pglite" && engine !== "pg-mem") {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `postgres() engine ${JSON.stringify(options.engine)} is not one of "pglite" (the default) and "pg-mem".`,
    );
  }
  const maxConnections = options.maxConnections ?? 5;
  if (!Number.isSafeInteger(maxConnections) || maxConnections < 1 || maxConnections > 100) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `postgres() maxConnections ${JSON.stringify(options.maxConnections)} is not a whole number from 1 to 100; the default is 5.`,
    );
  }
  let migrations: Promise<Migration[]> | undefined;
  const loadMigrations = () => {
    migrations ??= readMigrations(options.migrations);
    return migrations;
  };

  const double = async (context: DependencyContext): Promise<DependencyHandle<PostgresClient>> => {
    const list = await loadMigrations();
    const describe = `postgres dependency "${context.name}" (${engine}, ${context.mode} mode)`;
    // Each engine's libraries load when a suite first builds it, never at import.
    if (engine === "pg-mem") {
      const { openPgMemPool } = await import("./pg-mem-engine.js");
      const memory = openPgMemPool(list);
      return { client: memory.pool, implementation: "pg-mem", target: "in-process", ...lifecycle(memory) };
    }
    const { openPglitePool, pgliteSnapshot } = await import("./pglite-engine.js");
    const snapshot = await pgliteSnapshot(list, context.env);
    const session = await openPglitePool(snapshot, {
      describe,
      waitMs: context.operationTimeoutMs,
      idleHolderMs: Math.min(1000, context.operationTimeoutMs),
    });
    return { client: session.pool, implementation: "pglite", target: "in-process", ...lifecycle(session) };
  };

  return tracedDependency({
    kind: "postgres",
    variables: [options.urlEnv],
    // The run's first environment may start the server (and, once per machine, initdb it).
    startTimeoutMs: 60_000,
    describeTarget(env) {
      return redactTarget(env[options.urlEnv] ?? "");
    },
    double,
    async local(context: DependencyContext): Promise<DependencyHandle<PostgresClient>> {
      const list = await loadMigrations();
      const name = schemaNameFor(context.service, context.name, context.instanceId);
      const lease = await leaseDatabase(list, name, context.env, context.signal);
      const target = `${redactTarget(lease.url)} (schema ${lease.schema})`;
      try {
        const { openLivePool } = await import("./live-engine.js");
        const local = await openLivePool(
          {
            connectionString: lease.url,
            server: new URL(lease.url).host,
            target,
            secrets: secretsOf(lease.url),
            urlEnv: "the local PostgreSQL",
            schema: lease.schema,
            maxConnections,
            migrations: list,
            // The run's own server, and a database made for this environment alone: dropped at close, and
            // gone with the server if the run dies, so it needs no lease.
            assertDatabase: () => {},
            prepared: true,
          },
          context,
        );
        return {
          client: local.pool,
          implementation: lease.implementation,
          target,
          reset: () => local.reset(),
          async close() {
            try {
              await local.close();
            } finally {
              await releaseDatabase(lease.database, context.env);
            }
          },
        };
      } catch (error) {
        await releaseDatabase(lease.database, context.env).catch(() => {});
        throw error;
      }
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
      assertIsolationKept(url, options.urlEnv, target);
      const allowNonTestDatabase = options.allowNonTestDatabase === true;
      const named = decodeURIComponent(url.pathname.replace(/^\//, ""));
      if (named)
        assertCleanupAllowed({ database: named, target, urlEnv: options.urlEnv, allowNonTestDatabase });
      const leaseMs = leaseMsFrom(context.env);
      const list = await loadMigrations();
      const schema = schemaNameFor(context.service, context.name, context.instanceId);
      const { openLivePool } = await import("./live-engine.js");
      const live = await openLivePool(
        {
          connectionString: raw,
          server: `${url.hostname}:${url.port || "5432"}`,
          target,
          secrets: secretsOf(raw),
          urlEnv: options.urlEnv,
          schema,
          maxConnections,
          migrations: list,
          lease: { holder: leaseHolder(context.runId), ms: leaseMs },
          // The URL may name no database (the user's default): check the one the server chose.
          assertDatabase: (database) =>
            assertCleanupAllowed({ database, target, urlEnv: options.urlEnv, allowNonTestDatabase }),
        },
        context,
      );
      return {
        client: live.pool,
        implementation: "pg",
        target: `${target} (schema ${schema})`,
        ...lifecycle(live),
      };
    },
  });
}

function lifecycle(engine: { reset(): Promise<void>; close(): Promise<void> }) {
  return { reset: () => engine.reset(), close: () => engine.close() };
}
