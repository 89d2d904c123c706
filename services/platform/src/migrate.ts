import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type pg from "pg";

/** The folder of the platform's migrations. */
export const platformMigrations = new URL("../migrations/", import.meta.url);

/** Applies the migrations in `folder` not yet recorded in schema_migrations, each in its own transaction. */
export async function migrate(pool: pg.Pool, folder: URL = platformMigrations): Promise<string[]> {
  await pool.query("create table if not exists schema_migrations (name text primary key)");
  const done = new Set(
    (await pool.query<{ name: string }>("select name from schema_migrations")).rows.map((r) => r.name),
  );
  const files = (await readdir(fileURLToPath(folder))).filter((f) => f.endsWith(".sql")).sort();
  const applied: string[] = [];
  for (const file of files.filter((f) => !done.has(f))) {
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query(await readFile(fileURLToPath(new URL(file, folder)), "utf8"));
      await client.query("insert into schema_migrations (name) values ($1)", [file]);
      await client.query("commit");
      applied.push(file);
    } catch (error) {
      await client.query("rollback");
      throw new Error(`migration ${file} failed: ${(error as Error).message}`);
    } finally {
      client.release();
    }
  }
  return applied;
}
