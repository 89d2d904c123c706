import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { createIntegrationEnvironment } from "../../src/environment.js";
import { isTestSupportError } from "../../src/errors.js";
import { pgliteSnapshot } from "../../src/postgres/pglite-engine.js";
import { type PostgresEngine, postgres } from "../../src/postgres/postgres.js";
import { describeInModes } from "../../src/vitest/index.js";
import { caught, memoryTelemetry } from "../helpers.js";

// The in-process engines themselves (PGlite, pg-mem): heavier than unit tests, so they run with the
// integration suites, in the modes that build them.
const fixtures = new URL("../fixtures/", import.meta.url);

const open = (migrations: URL, engine?: PostgresEngine, operationTimeoutMs?: number) =>
  createIntegrationEnvironment({
    service: "svc",
    dependencies: { db: postgres({ migrations, urlEnv: "DB_URL", engine }) },
    env: { INTEGRATION_MODE: "repo" },
    telemetry: memoryTelemetry(),
    operationTimeoutMs,
  });

for (const engine of ["pglite", "pg-mem"] as const) {
  describeInModes(["repo", "local"], `postgres double (${engine})`, () => {
    it("names the migration that failed and the engine", async () => {
      const error = await caught(() => open(new URL("bad-migrations/", fixtures), engine));
      expect(isTestSupportError(error, "MIGRATION_FAILED")).toBe(true);
      expect(error.message).toContain(
        `migration 002_broken.sql failed on ${engine === "pglite" ? "PGlite" : "pg-mem"}`,
      );
    });

    it("says when the migrations folder does not exist", async () => {
      const error = await caught(() => open(new URL("no-such-folder/", fixtures), engine));
      expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
      expect(error.message).toMatch(/migrations folder .*no-such-folder.* does not exist/);
    });
  });
}

describeInModes(["repo", "local"], "PGlite pool (repo mode default)", () => {
  it("reports PostgreSQL's errors with SQLSTATE, constraint, table, column and detail, through the pool and a client", async () => {
    await using env = await open(new URL("migrations/", fixtures));
    const db = env.clients.db;
    await db.query("insert into accounts (email) values ('a@x.test')");
    await expect(db.query("insert into accounts (email) values ('a@x.test')")).rejects.toMatchObject({
      code: "23505",
      constraint: "accounts_email_key",
      table: "accounts",
      detail: "Key (email)=(a@x.test) already exists.",
    });
    await expect(db.query("insert into accounts (email) values (null)")).rejects.toMatchObject({
      code: "23502",
      table: "accounts",
      column: "email",
    });
    await expect(db.query("insert into notes (account_id, body) values (42, 'x')")).rejects.toMatchObject({
      code: "23503",
      constraint: "notes_account_id_fkey",
    });
    await expect(db.query("select * from no_such_table")).rejects.toMatchObject({ code: "42P01" });
    const client = await db.connect();
    await expect(client.query("select no_such_column from accounts")).rejects.toMatchObject({
      code: "42703",
    });
    const viaCallback = await new Promise<unknown>((resolve) => {
      client.query("select * from no_such_table", (error: unknown) => resolve(error));
    });
    expect(viaCallback).toMatchObject({ code: "42P01" });
    client.release();
  });

  it("parses types as pg does against a server, and fills fields", async () => {
    await using env = await open(new URL("migrations/", fixtures));
    const result = await env.clients.db.query(
      "select 9007199254740993::int8 as big, 1.50::numeric as n, '2024-01-02T03:04:05Z'::timestamptz as t, '{\"a\":[1]}'::jsonb as j, $1::bytea as b, $2::text[] as tags",
      [Buffer.from([0, 255]), ["x", "y"]],
    );
    expect(result.rows[0]).toEqual({
      big: "9007199254740993",
      n: "1.50",
      t: new Date("2024-01-02T03:04:05Z"),
      j: { a: [1] },
      b: Buffer.from([0, 255]),
      tags: ["x", "y"],
    });
    expect(result.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ["big", 20],
      ["n", 1700],
      ["t", 1184],
      ["j", 3802],
      ["b", 17],
      ["tags", 1009],
    ]);
    const arrays = await env.clients.db.query({
      text: "select $1::int as a, 'x' as b",
      values: [7],
      rowMode: "array",
    });
    expect(arrays.rows).toEqual([[7, "x"]]);
  });

  it("gives the session to one client at a time: a rollback undoes, and others wait for the release", async () => {
    await using env = await open(new URL("migrations/", fixtures));
    const db = env.clients.db;
    const client = await db.connect();
    await client.query("begin");
    await client.query("insert into accounts (email) values ('in-tx@x.test')");
    const waiting = db.query<{ n: number }>("select count(*)::int as n from accounts");
    await client.query("rollback");
    client.release();
    expect((await waiting).rows).toEqual([{ n: 0 }]);
  });

  it("fails a second concurrent checkout clearly instead of hanging, naming the modes that can run it", async () => {
    await using env = await open(new URL("migrations/", fixtures), "pglite", 3000);
    const first = await env.clients.db.connect();
    const started = performance.now();
    const error = await caught(() => env.clients.db.connect());
    expect(performance.now() - started).toBeLessThan(2900);
    expect(isTestSupportError(error, "UNSUPPORTED_BY_DOUBLE")).toBe(true);
    expect(error.message).toContain("PGlite runs one session");
    expect(error.message).toContain("cluster");
    first.release();
    // The pool is usable again once the holder is released.
    expect((await env.clients.db.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
  });
});

describeInModes(["repo", "local"], "PGlite snapshots", () => {
  it("are built once, cached on disk by migrations and engine version, and the cache is bounded", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pglite-cache-"));
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `stale-${i}.tar`), "x");
    const env = { INTEGRATION_PGLITE_CACHE_DIR: dir };
    const first = await pgliteSnapshot([{ name: "001.sql", sql: "create table a (id int)" }], env);
    expect(first.source).toBe("built");
    expect(readdirSync(dir)).toContain(`${first.key}.tar`);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tar")).length).toBeLessThanOrEqual(16);
    const again = await pgliteSnapshot([{ name: "001.sql", sql: "create table a (id int)" }], env);
    expect(again.key).toBe(first.key);
    expect(again.source).toBe("memory");
    const changed = await pgliteSnapshot([{ name: "001.sql", sql: "create table a (id bigint)" }], env);
    expect(changed.key).not.toBe(first.key);
  });
});
