import type pg from "pg";
import { type IMemoryDb, newDb } from "pg-mem";
import { TestSupportError } from "../errors.js";
import type { Migration } from "./migrations.js";

// pg-mem: a JavaScript re-implementation of PostgreSQL, faster to start than PGlite and less faithful.
// It is an explicit option; its differences from PostgreSQL are measured by the fidelity corpus and
// listed in docs/postgres-pg-mem.md.

/** A statement that may change the schema (pg-mem's schema-change event misses indexes and types). */
const DDL = /^\s*(create|alter|drop|comment|grant|revoke)\b/im;

/** A pg-mem database with the migrations applied, behind a Pool that survives a rebuild. */
export interface PgMemPool {
  readonly pool: pg.Pool;
  reset(): Promise<void>;
  close(): Promise<void>;
}

function migrated(migrations: readonly Migration[]): IMemoryDb {
  const db = newDb({ autoCreateForeignKeyIndices: true });
  for (const migration of migrations) {
    try {
      db.public.none(migration.sql);
    } catch (error) {
      throw new TestSupportError(
        "MIGRATION_FAILED",
        `migration ${migration.name} failed on pg-mem: ${(error as Error).message.split("\n")[0]}. ` +
          'If PostgreSQL accepts it, pg-mem lacks the feature: use the default engine (PGlite) instead of postgres({ engine: "pg-mem" }).',
        { cause: error },
      );
    }
  }
  return db;
}

/** Builds pg-mem from the migrations; reset restores the post-migration backup, or migrates afresh after DDL. */
export function openPgMemPool(migrations: readonly Migration[]): PgMemPool {
  let changed = false;
  const fresh = () => {
    const memory = migrated(migrations);
    // pg-mem's backup covers rows, not every object: after any DDL (an index, a type) a reset migrates afresh.
    memory.on("schema-change", () => {
      changed = true;
    });
    memory.on("query", (sql: string) => {
      if (DDL.test(sql)) changed = true;
    });
    changed = false;
    return memory;
  };
  let db = fresh();
  let backup = db.backup();
  const poolOf = (memory: IMemoryDb) => {
    const { Pool } = memory.adapters.createPg();
    return new Pool() as pg.Pool;
  };
  let current = poolOf(db);
  const retired: pg.Pool[] = [];
  // Clients the suite has not released: a reset ends them, as it ends a real session it takes back.
  const checkedOut = new Set<() => void>();
  const connect = async () => {
    const client = (await current.connect()) as pg.PoolClient;
    // pg-mem hands out one client object to every checkout; each checkout gets a view of its own.
    let revoked = false;
    const view = Object.create(client) as pg.PoolClient;
    const revoke = () => {
      revoked = true;
    };
    checkedOut.add(revoke);
    view.query = ((...args: unknown[]) =>
      revoked
        ? Promise.reject(new Error("Client was closed and is not queryable"))
        : (client.query as (...a: unknown[]) => unknown)(...args)) as pg.PoolClient["query"];
    view.release = (error?: Error | boolean) => {
      checkedOut.delete(revoke);
      return client.release(error);
    };
    return view;
  };
  // The suite keeps one object across resets; it forwards to whichever database is current.
  const pool = new Proxy({} as pg.Pool, {
    get(_, key) {
      if (key === "connect") {
        return (callback?: (error: unknown, client?: pg.PoolClient, done?: () => void) => void) => {
          if (!callback) return connect();
          connect().then(
            (client) => callback(undefined, client, () => client.release()),
            (error: unknown) => callback(error),
          );
        };
      }
      const value = Reflect.get(current, key, current);
      return typeof value === "function" ? value.bind(current) : value;
    },
  });
  return {
    pool,
    async reset() {
      for (const revoke of checkedOut) revoke();
      checkedOut.clear();
      if (!changed) {
        backup.restore();
      } else {
        retired.push(current);
        db = fresh();
        backup = db.backup();
        current = poolOf(db);
      }
    },
    async close() {
      for (const old of [...retired, current]) await old.end().catch(() => {});
    },
  };
}
