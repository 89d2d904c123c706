import pg from "pg";
import type { DependencyContext } from "../dependency.js";
import { errorText, TestSupportError } from "../errors.js";
import { type Heartbeat, leaseText, startHeartbeat } from "../lease/lease.js";
import { registerSchemaLease, type SchemaLease } from "../lease/postgres-lease.js";
import { scrub } from "../redact.js";
import { applyMigrations, type Migration } from "./migrations.js";
import { installReset, quoteIdent, runReset } from "./reset-sql.js";

// A real PostgreSQL server: in cluster mode the environment owns a schema for the migrations and one for
// the reset machinery, and nothing else; in local mode it owns a whole database, copied from a template
// that already holds both schemas.

/** Process-wide count of connections the live pools hold, per server, for the budget message. */
const BUDGET_KEY = Symbol.for("@org/test-support/postgres-connections");
const globals = globalThis as unknown as Record<symbol, Map<string, { open: number; pools: number }>>;
globals[BUDGET_KEY] ??= new Map();
const budget = globals[BUDGET_KEY];

/** What a live pool needs to know. */
export interface LiveOptions {
  readonly connectionString: string;
  readonly server: string;
  readonly target: string;
  readonly secrets: readonly string[];
  readonly urlEnv: string;
  readonly schema: string;
  readonly maxConnections: number;
  readonly migrations: readonly Migration[];
  /** Throws when the database the server chose may not be cleaned up; runs before anything is created. */
  readonly assertDatabase: (database: string) => void;
  /**
   * The lease the schemas are registered under, so a sweep removes them if this process dies. None for a
   * database of local mode's own server: the database is this environment's alone and the server dies with
   * the run (its engine lease covers a crash), so there is nothing for a sweep to find.
   */
  readonly lease?: { readonly holder: string; readonly ms: number };
  /** The database already holds the migrated schema and its reset (a copy of a template): nothing to build, nor to drop on close. */
  readonly prepared?: boolean;
}

/** A pool on a real server with the environment's schema, reset and close. */
export interface LivePool {
  readonly pool: pg.Pool;
  readonly database: string;
  reset(): Promise<void>;
  close(): Promise<void>;
}

type TrackedClient = pg.PoolClient & { processID?: number; getTransactionStatus(): string | null };

/** True for failures of the connection itself (a restart, a cut socket), after which a retry can succeed. */
function connectionLost(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? "";
  const message = errorText(error);
  return (
    code.startsWith("57P") || // admin_shutdown, crash_shutdown, cannot_connect_now
    code.startsWith("08") ||
    code === "ECONNRESET" ||
    code === "ECONNREFUSED" ||
    code === "EPIPE" ||
    /Connection terminated|Client has encountered a connection error|not queryable/i.test(message)
  );
}

/** Opens the pool, creates the schemas, runs the migrations and installs the reset, within the context's bounds. */
export async function openLivePool(options: LiveOptions, context: DependencyContext): Promise<LivePool> {
  const { schema, target, secrets } = options;
  const ctl = `${schema}_ctl`;
  const tell = (error: unknown) => scrub(errorText(error), secrets);
  const entry = budget.get(options.server) ?? { open: 0, pools: 0 };
  budget.set(options.server, entry);

  const pool = new pg.Pool({
    connectionString: options.connectionString,
    // The factory enforces the connect bound; this backstop only frees the socket after it gave up.
    connectionTimeoutMillis: context.connectTimeoutMs + 1000,
    max: options.maxConnections,
    // Every statement the suite runs is bounded on the server, and every wait for an answer in the client.
    statement_timeout: context.operationTimeoutMs,
    query_timeout: context.operationTimeoutMs + 1000,
    application_name: schema,
    options: `-c search_path=${schema}`,
  });
  entry.pools++;
  pool.on("connect", (client) => {
    entry.open++;
    // Enforced on every connection, whatever the URL or PGOPTIONS say: the first statement each runs.
    client.query(`set search_path to ${quoteIdent(schema)}`).catch(() => {});
  });
  pool.on("remove", () => {
    entry.open--;
  });
  // An idle client that loses its server must not crash the test process; the pool replaces it.
  pool.on("error", () => {});

  const exhausted = (error: unknown) =>
    new TestSupportError(
      "CONNECTION_BUDGET",
      `postgres at ${target} refused a connection: ${tell(error)}. The server's max_connections is used up: this process ` +
        `holds ${entry.open} connection(s) to it across ${entry.pools} environment pool(s) of up to ${options.maxConnections} each, ` +
        "and other processes hold the rest. Lower postgres({ maxConnections }) (default 5), close environments you no " +
        "longer need (one per file is enough), run fewer test workers, or raise max_connections on the server.",
      { cause: error },
    );

  // A query the server never answers ends at pg's query_timeout; say which dependency and which bound.
  const stalled = (error: unknown) =>
    errorText(error) === "Query read timeout"
      ? new TestSupportError(
          "OPERATION_TIMEOUT",
          `postgres dependency "${context.name}" did not answer a query within ${context.operationTimeoutMs + 1000} ms at ${target} ` +
            `(schema ${schema}). The server stopped answering or something holds a lock; raise the bound with ` +
            "operationTimeoutMs / INTEGRATION_OPERATION_TIMEOUT_MS only if the query is legitimately slow.",
          { cause: error },
        )
      : error;
  const bounded = <T extends { query: (...args: never[]) => unknown }>(target: T): T => {
    const query = target.query.bind(target) as (...args: unknown[]) => unknown;
    (target as unknown as { query: unknown }).query = (...args: unknown[]) => {
      const result = query(...args);
      return result instanceof Promise
        ? result.catch((error: unknown) => {
            throw stalled(error);
          })
        : result;
    };
    return target;
  };
  bounded(pool);
  const boundedClients = new WeakSet<object>();

  // Clients the suite has checked out and not released, so a reset can take them back.
  const checkedOut = new Set<TrackedClient>();
  const connect = pool.connect.bind(pool) as () => Promise<TrackedClient>;
  const tracked = async (): Promise<TrackedClient> => {
    let client: TrackedClient;
    try {
      client = await connect();
    } catch (error) {
      throw (error as { code?: string }).code === "53300" ? exhausted(error) : error;
    }
    if (!boundedClients.has(client)) {
      boundedClients.add(client);
      bounded(client);
    }
    checkedOut.add(client);
    const release = client.release.bind(client);
    client.release = (error?: Error | boolean) => {
      checkedOut.delete(client);
      client.release = release;
      // A client given back inside a transaction would hand the next user an open transaction; a real
      // server keeps that session as it is, and so does this pool: reset is where it is rolled back.
      return release(error);
    };
    return client;
  };
  (pool as unknown as { connect: unknown }).connect = (callback?: unknown) => {
    if (typeof callback !== "function") return tracked();
    tracked().then(
      (client) => callback(undefined, client, client.release),
      (error: unknown) => callback(error, undefined, () => {}),
    );
    return undefined;
  };

  const fail = async (error: unknown, what: string): Promise<never> => {
    await pool.end().catch(() => {});
    entry.pools--;
    if (error instanceof TestSupportError) throw error;
    if ((error as { code?: string }).code === "53300") throw exhausted(error);
    throw new TestSupportError(
      "CONNECT_FAILED",
      `postgres at ${target} failed while ${what}: ${tell(error)}. ` +
        `Check that the server is up and that ${options.urlEnv} has the right host, port, user and database.`,
    );
  };

  let database: string;
  try {
    const result = await pool.query<{ db: string; path: string }>(
      "select current_database() as db, current_setting('search_path') as path",
    );
    database = result.rows[0]?.db ?? "";
    context.connected();
  } catch (error) {
    return fail(error, "connecting");
  }
  try {
    options.assertDatabase(database);
  } catch (error) {
    return fail(error, "checking the database");
  }

  const dropSchemas = () =>
    pool.query(`drop schema if exists ${quoteIdent(schema)}, ${quoteIdent(ctl)} cascade`);

  // The heartbeat runs beside the tests: its clients are not the suite's, so a reset never takes them back.
  const leaseDb = {
    query: async (text: string, values?: unknown[]) => {
      const client = await connect();
      try {
        const result = await client.query(text, values);
        client.release();
        return result;
      } catch (error) {
        client.release(error as Error);
        throw error;
      }
    },
  } as unknown as Pick<pg.Pool, "query">;
  // Registered before the schemas exist, so there is no moment a crash could leave them unregistered.
  let lease: SchemaLease | undefined;
  try {
    if (options.lease)
      lease = await registerSchemaLease(leaseDb, schema, options.lease.holder, options.lease.ms);
  } catch (error) {
    return fail(error, "registering the lease of its schema");
  }
  const held = lease;
  const heartbeat: Heartbeat | undefined =
    held && options.lease ? startHeartbeat(options.lease.ms, () => held.renew()) : undefined;
  const leftBehind = (error: unknown) =>
    new TestSupportError(
      "CLOSE_FAILED",
      `postgres at ${target} did not drop schemas ${schema} and ${ctl} in database ${database} (${tell(error)}). ` +
        (options.lease
          ? `They are registered under a lease that expires ${leaseText(options.lease.ms)} after this process stopped renewing it; ` +
            "then `pnpm test:integration sweep` drops them (`--dry-run` lists them first)."
          : "They have no lease: drop them by hand."),
      { cause: error },
    );

  /** Creates the schema, runs every migration in it and installs the reset; bounded by the set-up bound. */
  const build = async (bound: number) => {
    const client = (await connect()) as TrackedClient;
    const abort = () => {
      // Stop a migration that is still running: the set-up bound has passed.
      client.release(new Error("set-up bound passed"));
    };
    context.signal.addEventListener("abort", abort, { once: true });
    try {
      await client.query(`set statement_timeout = ${bound}`);
      await client.query(`create schema ${quoteIdent(schema)}`);
      await applyMigrations(client, options.migrations, (migration, error) =>
        // Past the set-up bound the migration was stopped on purpose: the bound's own error says so.
        context.signal.aborted
          ? error
          : new TestSupportError(
              "MIGRATION_FAILED",
              `migration ${migration.name} failed in schema ${schema} at ${target}: ${tell(error)}.`,
              { cause: error },
            ),
      );
      await installReset(client, schema, ctl);
      await client.query("reset statement_timeout");
      client.release();
    } catch (error) {
      if (!context.signal.aborted) client.release(error as Error);
      throw error;
    } finally {
      context.signal.removeEventListener("abort", abort);
    }
  };

  try {
    if (!options.prepared) await build(context.setupTimeoutMs);
  } catch (error) {
    // Nothing is left behind: the schemas go whether the migrations failed or the bound passed (and if
    // this drop fails too, the lease stops being renewed and a sweep drops them).
    heartbeat?.stop();
    await dropSchemas()
      .then(() => lease?.release())
      .catch(() => {});
    return fail(error, `applying the migrations in schema ${schema}`);
  }

  /**
   * Ends a client the suite still holds. A query still running on it (a pool.query the test did not await)
   * releases it again when it ends; the client is destroyed, never handed out again, so that second release
   * is made a no-op instead of pg-pool's uncaught "Release called on client which has already been released".
   */
  const takeBack = (client: TrackedClient, why: string) => {
    client.release(new Error(why));
    client.release = () => {};
  };

  const resetOnce = async () => {
    // Clients a test did not release: end them (a real test process would have closed their sockets).
    const leftover: number[] = [];
    for (const client of [...checkedOut]) {
      if (client.processID) leftover.push(client.processID);
      takeBack(client, "reset took back a client the test did not release");
    }
    const client = await tracked();
    try {
      // A client given back inside a transaction is the one the pool hands out first.
      if (client.getTransactionStatus() !== "I") await client.query("rollback");
      let outcome: "ok" | "rebuild";
      try {
        outcome = await runReset(client, ctl, leftover);
      } catch (error) {
        // A state the row-level reset cannot undo (e.g. a cycle of foreign keys): rebuild instead.
        if (connectionLost(error)) throw error;
        outcome = "rebuild";
      }
      if (outcome === "rebuild") {
        await client.query(`drop schema if exists ${quoteIdent(schema)}, ${quoteIdent(ctl)} cascade`);
        client.release();
        await build(context.operationTimeoutMs);
        return;
      }
      client.release();
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
  };
  /** Rolls back what pooled sessions hold: every idle client in a transaction. */
  const rollbackIdle = async () => {
    const idle = (pool as unknown as { _idle?: Array<{ client: TrackedClient }> })._idle ?? [];
    for (const item of [...idle]) {
      if (item.client.getTransactionStatus() !== "I") await item.client.query("rollback").catch(() => {});
    }
  };

  return {
    pool,
    database,
    async reset() {
      try {
        await rollbackIdle();
        await resetOnce();
      } catch (error) {
        // After a server restart the pool's sockets are dead; the pool drops them on error, and one retry
        // on fresh connections tells a lost connection from a real failure.
        if (!connectionLost(error)) throw error;
        await resetOnce();
      }
    },
    async close() {
      // From here the lease only runs out: if the drop below fails or stalls, a sweep finishes the job.
      heartbeat?.stop();
      try {
        for (const client of [...checkedOut]) takeBack(client, "environment closed");
        // A prepared database goes as a whole once the pool is closed.
        if (!options.prepared) {
          try {
            await dropSchemas();
          } catch (error) {
            throw leftBehind(error);
          }
        }
        await lease?.release().catch(() => {});
      } finally {
        entry.pools--;
        await pool.end();
      }
    },
  };
}
