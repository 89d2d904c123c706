import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TestSupportError } from "../errors.js";

/** One migration file: its name and SQL. */
export interface Migration {
  readonly name: string;
  readonly sql: string;
}

/** Reads every `.sql` file of a folder, in name order (numbers compared as numbers). */
export async function readMigrations(folder: URL | string): Promise<Migration[]> {
  const path = folder instanceof URL ? fileURLToPath(folder) : folder;
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `migrations folder ${path} does not exist or is not a folder; pass postgres({ migrations: new URL("../migrations", import.meta.url) }) pointing at a folder of .sql files.`,
    );
  }
  const names = (await readdir(path))
    .filter((name) => name.endsWith(".sql"))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  return Promise.all(names.map(async (name) => ({ name, sql: await readFile(join(path, name), "utf8") })));
}

/**
 * Applies `migrations` in order on a server connection, each in a transaction of its own. A failed one is
 * rolled back, and `failure(migration, error)` gives what to throw (each caller names its own engine).
 */
export async function applyMigrations(
  client: { query(text: string): Promise<unknown> },
  migrations: readonly Migration[],
  failure: (migration: Migration, error: unknown) => unknown,
): Promise<void> {
  for (const migration of migrations) {
    try {
      await client.query("begin");
      await client.query(migration.sql);
      await client.query("commit");
    } catch (error) {
      await client.query("rollback").catch(() => {});
      throw failure(migration, error);
    }
  }
}
