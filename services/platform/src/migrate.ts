import { readMigrations } from "@org/test-support";
import type pg from "pg";

/** The folder of the platform's migrations. */
export const platformMigrations = new URL("../migrations/", import.meta.url);

/**
 * Applies the migrations in `folder` not yet recorded in schema_migrations, each in its own transaction, in
 * the order test-support's doubles apply them (numbers compared as numbers: 2_x before 10_y), so a service
 * process and its suites never disagree on the schema.
 */
export async function migrate(pool: pg.Pool, folder: URL = platformMigrations): Promise<string[]> {
  // Look first, then create: pg-mem (the repo-mode double) refuses a second CREATE TABLE IF NOT EXISTS whose
  // columns carry constraints, and the IF NOT EXISTS still covers two processes racing on a real server.
  const { rows: found } = await pool.query(
    "select 1 from information_schema.tables where table_schema = current_schema() and table_name = 'schema_migrations'",
  );
  if (found.length === 0)
    await pool.query("create table if not exists schema_migrations (name text primary key)");
  const done = new Set(
    (await pool.query<{ name: string }>("select name from schema_migrations")).rows.map((r) => r.name),
  );
  const applied: string[] = [];
  for (const { name, sql } of (await readMigrations(folder)).filter((m) => !done.has(m.name))) {
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query(sql);
      await client.query("insert into schema_migrations (name) values ($1)", [name]);
      await client.query("commit");
      applied.push(name);
    } catch (error) {
      await client.query("rollback");
      throw new Error(`migration ${name} failed: ${(error as Error).message}`);
    } finally {
      client.release();
    }
  }
  return applied;
}
