// The pollution detector's generated tests: each writes rows, keys and tuples marked with its own id, then
// asserts that its clients see nothing but its own, so any data another test (of this file, after a reset,
// or of the other worker's file, on the same servers) left or leaks would fail it. After the last test the
// file counts what its reset left (must be zero) and records it for tests/pollution/run.ts.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect } from "vitest";
import {
  type IntegrationEnvironment,
  integrationModeFrom,
  openfga,
  postgres,
  redis,
  resolveArtifactsDir,
} from "../../src/index.js";
import { integrationTest } from "../../src/vitest/index.js";

const dependencies = {
  db: postgres({
    migrations: new URL("../fixtures/migrations/", import.meta.url),
    urlEnv: "TEST_SUPPORT_DATABASE_URL",
  }),
  cache: redis({ urlEnv: "REDIS_URL" }),
  authz: openfga({ model: new URL("../fixtures/authz.fga", import.meta.url) }),
};

/** What one file of the detector recorded. */
export interface PollutionCounts {
  file: string;
  mode: string;
  pid: number;
  tests: number;
  remaining: { rows: number; keys: number; tuples: number };
}

/** Defines `count` generated tests in the calling file (POLLUTION_TESTS overrides the count). */
export function pollutionSuite(file: string, count: number): void {
  const total = Number(process.env.POLLUTION_TESTS) || count;
  const test = integrationTest({ service: "pollution", dependencies, telemetry: { emit() {} } });
  let environment: IntegrationEnvironment<typeof dependencies> | undefined;
  let ran = 0;

  for (let i = 0; i < total; i++) {
    const id = `${file}-${i}`;
    test(`test ${id} sees only its own rows, keys and tuples`, async ({ clients, environment: env }) => {
      environment = env;
      const { db, cache, authz } = clients;
      // Two rows, three keys and two tuples, written through every kind of call the suites use.
      const account = await db.query<{ id: number }>(
        "insert into accounts (email) values ($1) returning id",
        [`${id}@p.test`],
      );
      await db.query("insert into notes (account_id, body) values ($1, $2)", [account.rows[0]?.id, id]);
      await cache.set(`mark:${id}`, id);
      await cache.hset("owner", "test", id);
      await cache.rpush("log", id);
      await authz.writeTuples([
        { user: `user:${id}`, relation: "owner", object: `document:${id}` },
        { user: `user:${id}`, relation: "member", object: "tenant:shared" },
      ]);

      const emails = (await db.query<{ email: string }>("select email from accounts")).rows.map(
        (r) => r.email,
      );
      const bodies = (await db.query<{ body: string }>("select body from notes")).rows.map((r) => r.body);
      expect(emails).toEqual([`${id}@p.test`]);
      expect(bodies).toEqual([id]);
      expect((await cache.keys("*")).sort()).toEqual(["log", `mark:${id}`, "owner"]);
      expect(await cache.hgetall("owner")).toEqual({ test: id });
      expect(await cache.lrange("log", 0, -1)).toEqual([id]);
      const tuples = (await authz.read()).tuples.map(
        (t) => `${t.key.object}#${t.key.relation}@${t.key.user}`,
      );
      expect(tuples.sort()).toEqual(
        [`document:${id}#owner@user:${id}`, `tenant:shared#member@user:${id}`].sort(),
      );
      const members = await authz.listUsers({
        object: { type: "tenant", id: "shared" },
        relation: "member",
        user_filters: [{ type: "user" }],
      });
      expect(members.users.map((u) => (u as { object?: { id: string } }).object?.id)).toEqual([id]);
      ran++;
    });
  }

  // Runs before the fixture's close (after-hooks run in reverse order): one more reset, then a count.
  afterAll(async () => {
    if (!environment) return;
    await environment.reset();
    const { db, cache, authz } = environment.clients;
    const rows = (
      await db.query<{ n: number }>(
        "select (select count(*) from accounts) + (select count(*) from notes) as n",
      )
    ).rows[0]?.n;
    const counts: PollutionCounts = {
      file,
      mode: integrationModeFrom(),
      pid: process.pid,
      tests: ran,
      remaining: {
        rows: Number(rows),
        keys: (await cache.keys("*")).length,
        tuples: (await authz.read()).tuples.length,
      },
    };
    const folder = join(resolveArtifactsDir(process.env), "test-support", "pollution");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `${counts.mode}-${file}.json`), `${JSON.stringify(counts)}\n`);
  });
}
