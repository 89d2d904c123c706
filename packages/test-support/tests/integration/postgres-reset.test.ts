import { describe, expect } from "vitest";
import { type PostgresClient, type PostgresEngine, postgres } from "../../src/index.js";
import { describeInModes, integrationTest } from "../../src/vitest/index.js";

// The reset semantics of the README ("Reset semantics"), item by item, in every mode: after reset() the
// database is as the migrations left it. In repo and local mode each engine runs it; in cluster mode the
// server does (the engine option only chooses the in-process engine).
const migrations = new URL("../fixtures/reset-migrations/", import.meta.url);

const withEngine = (engine: PostgresEngine) =>
  integrationTest({
    service: "test-support",
    dependencies: { db: postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL", engine }) },
  });
// Vitest wants file-scoped fixtures defined at the top of the file.
const onPglite = withEngine("pglite");
const onPgMem = withEngine("pg-mem");
type Db = PostgresClient;

/** A row written now survives a ROLLBACK only if the pooled session is in no transaction. */
async function expectNoOpenTransaction(db: Db) {
  await db.query("insert into items (kind, name) values ('a', 'committed')");
  await db.query("rollback");
  expect((await db.query("select name from items")).rows).toEqual([{ name: "committed" }]);
}

function resetSuite(test: typeof onPglite) {
  const kinds = async (db: Db) => (await db.query("select code, label from kinds order by code")).rows;
  const tablesOf = async (db: Db) =>
    (
      await db.query<{ name: string }>(
        "select table_name as name from information_schema.tables where table_schema = current_schema() order by 1",
      )
    ).rows.map((r) => r.name);

  test("brings back the rows the migrations inserted, as they were", async ({ clients, environment }) => {
    await clients.db.query("update kinds set label = 'changed' where code = 'a'");
    await clients.db.query("delete from kinds where code = 'b'");
    await clients.db.query("insert into kinds (code, label) values ('c', 'Gamma')");
    await clients.db.query("delete from moods");
    await environment.reset();
    expect(await kinds(clients.db)).toEqual([
      { code: "a", label: "Alpha" },
      { code: "b", label: "Beta" },
    ]);
    expect((await clients.db.query("select id, mood from moods")).rows).toEqual([{ id: 1, mood: "sad" }]);
  });

  test("removes every row a test wrote, through the pool or a client", async ({ clients, environment }) => {
    await clients.db.query("insert into items (kind, name) values ('a', 'one'), ('b', 'two')");
    const client = await clients.db.connect();
    await client.query("insert into audit (item_id, note) values (1, 'x')");
    client.release();
    await environment.reset();
    expect((await clients.db.query("select count(*)::int as n from items")).rows).toEqual([{ n: 0 }]);
    expect((await clients.db.query("select count(*)::int as n from audit")).rows).toEqual([{ n: 0 }]);
  });

  test("puts owned, identity and standalone sequences back to their post-migration values", async ({
    clients,
    environment,
  }) => {
    for (let round = 0; round < 2; round++) {
      const item = await clients.db.query("insert into items (kind, name) values ('a', 'x') returning id");
      const audit = await clients.db.query("insert into audit (note) values ('x') returning id");
      const mood = await clients.db.query("insert into moods (mood) values ('ok') returning id");
      const invoice = await clients.db.query("select nextval('invoice_numbers') as n");
      // Compared as numbers: this is about the values (pg-mem returns int8 as numbers, PostgreSQL as strings).
      const values = [item.rows[0].id, audit.rows[0].id, mood.rows[0].id, invoice.rows[0].n].map(Number);
      expect(values).toEqual([1, 1, 2, 1001]);
      await environment.reset();
    }
  });

  test("removes tables, columns, indexes and types a test created", async ({ clients, environment }) => {
    const before = await tablesOf(clients.db);
    await clients.db.query("create table scratch (id int)");
    await clients.db.query("alter table items add column extra text");
    await clients.db.query("create index items_name on items (name)");
    await clients.db.query("create type colour as enum ('red')");
    await clients.db.query("insert into scratch values (1)");
    await environment.reset();
    expect(await tablesOf(clients.db)).toEqual(before);
    const columns = await clients.db.query(
      "select column_name from information_schema.columns where table_schema = current_schema() and table_name = 'items' order by ordinal_position",
    );
    expect(columns.rows.map((r) => r.column_name)).toEqual(["id", "kind", "name"]);
    // Creating them again works only if the reset removed them (else: 42P07, 42710).
    await clients.db.query("create index items_name on items (name)");
    await clients.db.query("create type colour as enum ('red')");
    await environment.reset();
    // and the reset after a rebuild still works: reference rows, sequences, dirty tables
    await clients.db.query("insert into items (kind, name) values ('a', 'after')");
    await environment.reset();
    expect(
      (await clients.db.query("insert into items (kind, name) values ('b', 'y') returning id")).rows,
    ).toEqual([{ id: 1 }]);
    expect(await kinds(clients.db)).toHaveLength(2);
  });

  test("rolls back a transaction a test left open in a client it never released", async ({
    clients,
    environment,
  }) => {
    const leaked = await clients.db.connect();
    await leaked.query("begin");
    await leaked.query("insert into items (kind, name) values ('a', 'uncommitted')");
    await leaked.query("update kinds set label = 'locked' where code = 'a'");
    await environment.reset();
    expect((await clients.db.query("select count(*)::int as n from items")).rows).toEqual([{ n: 0 }]);
    expect(await kinds(clients.db)).toEqual([
      { code: "a", label: "Alpha" },
      { code: "b", label: "Beta" },
    ]);
    await expectNoOpenTransaction(clients.db);
    await expect(leaked.query("select 1")).rejects.toThrow();
  });

  test("rolls back a transaction a test began through the pool and never ended", async ({
    clients,
    environment,
  }) => {
    await clients.db.query("begin");
    await clients.db.query("insert into items (kind, name) values ('a', 'uncommitted')");
    await environment.reset();
    expect((await clients.db.query("select count(*)::int as n from items")).rows).toEqual([{ n: 0 }]);
    await expectNoOpenTransaction(clients.db);
  });
}

describe("reset semantics (default engine in repo/local, the server in cluster)", () => {
  resetSuite(onPglite);
});

describeInModes(["repo", "local"], "reset semantics with engine pg-mem", () => {
  resetSuite(onPgMem);
});
