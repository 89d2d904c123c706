import { integrationTest } from "@org/test-support/vitest";
import { expect } from "vitest";
import { migrate } from "../../src/migrate.js";
import { platformDatabase } from "../../src/testing/index.js";

// The services' one migration runner, in every mode: the same order as test-support's doubles apply.
const test = integrationTest({ service: "platform", dependencies: { db: platformDatabase() } });
const ordered = new URL("../fixtures/ordered-migrations/", import.meta.url);

test("applies migrations with numbers compared as numbers, each once", async ({ clients }) => {
  expect(await migrate(clients.db, ordered)).toEqual(["1_accounts.sql", "2_notes.sql", "10_notes_title.sql"]);
  expect(await migrate(clients.db, ordered)).toEqual([]);
  await clients.db.query("insert into accounts (id) values ('a1')");
  await clients.db.query("insert into notes (account_id, title) values ('a1', 'hello')");
  const { rows } = await clients.db.query<{ title: string }>("select title from notes");
  expect(rows).toEqual([{ title: "hello" }]);
});
