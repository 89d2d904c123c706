import { afterAll, beforeAll, expect, it } from "vitest";
import type { Dependency } from "../../src/dependency.js";
import {
  createIntegrationEnvironment,
  isTestSupportError,
  type PostgresClient,
  postgres,
} from "../../src/index.js";
import { describeInModes } from "../../src/vitest/index.js";
import { caught, memoryTelemetry } from "../helpers.js";
import { canStartPrivatePostgres, type PrivatePostgres, privatePostgres } from "../private-postgres.js";

// What only a real server can show: isolation on every connection, bounds, names per dependency,
// set-up that leaves nothing behind, and faults on a private server (never the shared one).
const migrations = new URL("../fixtures/migrations/", import.meta.url);
const slowMigrations = new URL("../fixtures/slow-migrations/", import.meta.url);

function open(dependencies: Record<string, Dependency<unknown>>, url: string, bounds: object = {}) {
  return createIntegrationEnvironment({
    service: "test-support",
    dependencies,
    env: { ...process.env, INTEGRATION_MODE: "cluster", TEST_SUPPORT_DATABASE_URL: url },
    telemetry: memoryTelemetry(),
    ...bounds,
  });
}

const schemaOf = (target: string) => /\(schema ([a-z0-9_]+)\)/.exec(target)?.[1] ?? "";

describeInModes(["cluster"], "postgres on a real server", () => {
  const shared = () => process.env.TEST_SUPPORT_DATABASE_URL ?? "";

  it("reports what it selected without the password when the URL carries one", async () => {
    // The shared server trusts loopback, so any password connects; it must appear nowhere in what is reported.
    const url = new URL(shared());
    url.password = "Sekr3tPassw0rd";
    const telemetry = memoryTelemetry();
    await using env = await createIntegrationEnvironment({
      service: "test-support",
      dependencies: { db: postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL" }) },
      env: { ...process.env, INTEGRATION_MODE: "cluster", TEST_SUPPORT_DATABASE_URL: url.href },
      telemetry,
    });
    const { target } = env.targets.db;
    expect(target).toContain(":***@");
    expect(target).not.toContain("Sekr3tPassw0rd");
    expect(target).not.toMatch(/:(?!\*\*\*@)[^:@/]+@/);
    expect(JSON.stringify(telemetry.events)).not.toContain("Sekr3tPassw0rd");
  });

  it("resets while a query the test did not await is still running, without an uncaught error", async () => {
    await using env = await open(
      { db: postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL" }) },
      shared(),
    );
    const db = env.clients.db as PostgresClient;
    // Not awaited, as a test that forgot an await would leave it; the reset ends its session.
    const forgotten = db.query("select pg_sleep(1)").then(
      () => "finished",
      () => "ended by the reset",
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await env.reset();
    expect(await forgotten).toBe("ended by the reset");
    expect((await db.query("select count(*)::int as n from accounts")).rows).toEqual([{ n: 0 }]);
  });

  it("puts every pooled connection in the environment's schema", async () => {
    await using env = await open(
      { db: postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL" }) },
      shared(),
    );
    const db = env.clients.db as PostgresClient;
    const clients = await Promise.all([db.connect(), db.connect(), db.connect()]);
    const schemas = await Promise.all(clients.map((c) => c.query("select current_schema() as s")));
    for (const client of clients) client.release();
    const expected = schemaOf(env.targets.db?.target ?? "");
    expect(expected).toMatch(/^it_test_support_db_/);
    expect(schemas.map((r) => r.rows[0].s)).toEqual([expected, expected, expected]);
  });

  it("gives two postgres dependencies of one environment a schema each", async () => {
    await using env = await open(
      {
        one: postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL" }),
        two: postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL" }),
      },
      shared(),
    );
    expect(schemaOf(env.targets.one?.target ?? "")).not.toBe(schemaOf(env.targets.two?.target ?? ""));
    await (env.clients.one as PostgresClient).query("insert into accounts (email) values ('one@x.test')");
    const seen = await (env.clients.two as PostgresClient).query("select count(*)::int as n from accounts");
    expect(seen.rows).toEqual([{ n: 0 }]);
  });

  it("gives each postgres dependency its own schema when one context builds several (a service's double)", async () => {
    const part = () => postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL" });
    const composite: Dependency<string[]> = {
      kind: "composite",
      variables: ["TEST_SUPPORT_DATABASE_URL"],
      describeTarget: () => "composite",
      double: () => Promise.reject(new Error("not in repo mode")),
      async live(context) {
        const a = await part().live(context);
        const b = await part().live(context);
        return {
          client: [a.target, b.target],
          implementation: "composite",
          target: "composite",
          reset: async () => {},
          close: async () => {
            await a.close();
            await b.close();
          },
        };
      },
    };
    await using env = await open({ app: composite }, shared());
    const [a, b] = env.clients.app as string[];
    expect(schemaOf(a ?? "")).not.toBe(schemaOf(b ?? ""));
  });

  it("bounds every statement the pool runs by the operation bound", async () => {
    await using env = await open(
      { db: postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL" }) },
      shared(),
      {
        operationTimeoutMs: 300,
      },
    );
    const started = performance.now();
    await expect((env.clients.db as PostgresClient).query("select pg_sleep(5)")).rejects.toMatchObject({
      code: "57014",
    });
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it("fails a slow migration by the set-up bound and leaves no schema behind", async () => {
    const probe = new (await import("pg")).default.Pool({ connectionString: shared(), max: 1 });
    try {
      const leftovers = async () =>
        (
          await probe.query(
            "select count(*)::int as n from pg_namespace where nspname like 'it_test_support_slowdb_%'",
          )
        ).rows[0].n;
      const started = performance.now();
      const error = await caught(() =>
        open(
          { slowdb: postgres({ migrations: slowMigrations, urlEnv: "TEST_SUPPORT_DATABASE_URL" }) },
          shared(),
          {
            setupTimeoutMs: 500,
          },
        ),
      );
      expect(isTestSupportError(error, "SETUP_TIMEOUT")).toBe(true);
      expect(error.message).toContain('"slowdb"');
      expect(performance.now() - started).toBeLessThan(2500);
      for (let i = 0; i < 50 && (await leftovers()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await leftovers()).toBe(0);
    } finally {
      await probe.end();
    }
  });
});

describeInModes(["cluster"], "postgres faults on a private server", () => {
  let server: PrivatePostgres | undefined;
  beforeAll(async () => {
    if (canStartPrivatePostgres) server = await privatePostgres({ maxConnections: 4 });
  }, 120_000);
  afterAll(() => server?.destroy());

  it("recovers after a restart: the query during the outage fails with its cause, reset and later queries work", async () => {
    if (!server)
      throw new Error("this machine cannot start a private PostgreSQL (/usr/lib/postgresql/*/bin)");
    await using env = await open(
      { db: postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL" }) },
      server.url,
    );
    const db = env.clients.db as PostgresClient;
    await db.query("insert into accounts (email) values ('before@x.test')");
    server.stop();
    const during = await caught(() => db.query("select 1"));
    expect(during.message).toMatch(/terminat|ECONNREFUSED|connect/i);
    server.start();
    await env.reset();
    expect((await db.query("select count(*)::int as n from accounts")).rows).toEqual([{ n: 0 }]);
    server.restart();
    await env.reset();
    expect(
      (await db.query("insert into accounts (email) values ('after@x.test') returning id")).rows,
    ).toEqual([{ id: 1 }]);
  }, 60_000);

  it("says exactly what was exhausted when the server's connections run out", async () => {
    if (!server)
      throw new Error("this machine cannot start a private PostgreSQL (/usr/lib/postgresql/*/bin)");
    const dependency = () => postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL", maxConnections: 2 });
    await using first = await open({ db: dependency() }, server.url);
    await using second = await open({ db: dependency() }, server.url);
    const held = [
      await (first.clients.db as PostgresClient).connect(),
      await (first.clients.db as PostgresClient).connect(),
      await (second.clients.db as PostgresClient).connect(),
      await (second.clients.db as PostgresClient).connect(),
    ];
    try {
      const error = await caught(() => open({ db: dependency() }, server?.url ?? ""));
      expect(isTestSupportError(error, "CONNECTION_BUDGET")).toBe(true);
      expect(error.message).toContain("max_connections");
      expect(error.message).toMatch(
        /this process holds \d+ connection\(s\) to it across \d+ environment pool/,
      );
      expect(error.message).toContain("maxConnections");
      expect(error.message).not.toContain("Check that the server is up");
    } finally {
      for (const client of held) client.release();
    }
  }, 60_000);
});
