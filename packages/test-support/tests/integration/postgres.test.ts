import { describe, expect } from "vitest";
import { createIntegrationEnvironment, postgres } from "../../src/index.js";
import { integrationTest } from "../../src/vitest/index.js";

// Runs unchanged in every mode: PGlite in repo/local, a schema of its own on real PostgreSQL in cluster.
const migrations = new URL("../fixtures/migrations/", import.meta.url);
const db = () => postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL" });
const test = integrationTest({ service: "test-support", dependencies: { db: db() } });

describe("postgres dependency", () => {
  test("has the migrations applied @smoke", async ({ clients }) => {
    const inserted = await clients.db.query<{ id: number }>(
      "insert into accounts (email) values ($1) returning id",
      ["ada@example.test"],
    );
    expect(inserted.rows).toEqual([{ id: 1 }]);
    await clients.db.query("insert into notes (account_id, body) values ($1, $2)", [1, "first"]);
    const joined = await clients.db.query<{ email: string; body: string }>(
      "select a.email, n.body from notes n join accounts a on a.id = n.account_id",
    );
    expect(joined.rows).toEqual([{ email: "ada@example.test", body: "first" }]);
  });

  test("starts each test empty, with sequences restarted", async ({ clients }) => {
    const count = await clients.db.query<{ n: number }>("select count(*)::int as n from accounts");
    expect(count.rows[0]?.n).toBe(0);
    const inserted = await clients.db.query<{ id: number }>(
      "insert into accounts (email) values ('grace@example.test') returning id",
    );
    expect(inserted.rows[0]?.id).toBe(1);
  });

  test("reset clears rows written through a checked-out client", async ({ clients, environment }) => {
    const client = await clients.db.connect();
    try {
      await client.query("insert into accounts (email) values ('x@example.test'), ('y@example.test')");
    } finally {
      client.release();
    }
    await environment.reset();
    const count = await clients.db.query<{ n: number }>("select count(*)::int as n from accounts");
    expect(count.rows[0]?.n).toBe(0);
  });

  test("enforces constraints with Postgres error codes", async ({ clients }) => {
    await clients.db.query("insert into accounts (email) values ('dup@example.test')");
    await expect(
      clients.db.query("insert into accounts (email) values ('dup@example.test')"),
    ).rejects.toMatchObject({
      code: "23505",
    });
    await expect(
      clients.db.query("insert into notes (account_id, body) values (999, 'orphan')"),
    ).rejects.toMatchObject({ code: "23503" });
  });

  test("two environments never see each other's rows", async ({ environment }) => {
    await using other = await createIntegrationEnvironment({
      service: "test-support",
      dependencies: { db: db() },
    });
    await environment.clients.db.query("insert into accounts (email) values ('mine@example.test')");
    await other.clients.db.query("insert into accounts (email) values ('theirs@example.test')");
    const mine = await environment.clients.db.query<{ email: string }>("select email from accounts");
    const theirs = await other.clients.db.query<{ email: string }>("select email from accounts");
    expect(mine.rows).toEqual([{ email: "mine@example.test" }]);
    expect(theirs.rows).toEqual([{ email: "theirs@example.test" }]);
    await other.reset();
    const after = await environment.clients.db.query<{ n: number }>(
      "select count(*)::int as n from accounts",
    );
    expect(after.rows[0]?.n).toBe(1);
  });

  test("reports what it selected", ({ environment }) => {
    const { implementation, target } = environment.targets.db;
    expect(implementation).toBe(environment.mode === "cluster" ? "pg" : "pglite");
    // A password in the URL is masked, never shown: the masked form ":***@" is fine, anything else is not.
    expect(target).not.toMatch(/:(?!\*\*\*@)[^:@/]+@/);
    const password = passwordOf(process.env.TEST_SUPPORT_DATABASE_URL);
    if (environment.mode === "cluster" && password) {
      expect(target).toContain(":***@");
      expect(target).not.toContain(password);
    }
  });
});

function passwordOf(url: string | undefined): string {
  try {
    return url ? decodeURIComponent(new URL(url).password) : "";
  } catch {
    return "";
  }
}
