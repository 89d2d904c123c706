import type pg from "pg";
import { type IMemoryDb, newDb } from "pg-mem";
import { TestSupportError } from "../errors.js";
import type { Migration } from "./migrations.js";

// pg-mem: a JavaScript re-implementation of PostgreSQL, faster to start than PGlite and less faithful.
// It is an explicit option; its differences from PostgreSQL are measured by the fidelity corpus and
// listed in docs/postgres-pg-mem.md.

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
  let db = migrated(migrations);
  let backup = db.backup();
  const poolOf = (memory: IMemoryDb) => {
    const { Pool } = memory.adapters.createPg();
    return new Pool() as pg.Pool;
  };
  let current = poolOf(db);
  const retired: pg.Pool[] = [];
  // The suite keeps one object across resets; it forwards to whichever database is current.
  const pool = new Proxy({} as pg.Pool, {
    get(_, key) {
      const value = Reflect.get(current, key, current);
      return typeof value === "function" ? value.bind(current) : value;
    },
  });
  return {
    pool,
    async reset() {
      try {
        backup.restore();
      } catch {
        // pg-mem cannot restore a backup once the schema changed (a test created a table): migrate afresh.
        retired.push(current);
        db = migrated(migrations);
        backup = db.backup();
        current = poolOf(db);
      }
    },
    async close() {
      for (const old of [...retired, current]) await old.end().catch(() => {});
    },
  };
}
