import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryTelemetry } from "../../tests/helpers.js";
import type { Dependency } from "../dependency.js";
import { createIntegrationEnvironment } from "../environment.js";
import { type PostgresClient, postgres } from "../postgres/postgres.js";
import { compareTraces } from "./compare.js";
import { beginTestTrace, endTestTrace, type TestTrace } from "./recorder.js";

// The harness end to end: the same test body runs through the factory on an honest double twice (other
// ids, other clock readings each time) and once on a deliberately broken one; only the broken one drifts.
const migrations = new URL("../../tests/fixtures/migrations/", import.meta.url);
const dir = mkdtempSync(join(tmpdir(), "drift-harness-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Pool = PostgresClient;
type Rpc = { getAccount(request: { email: string }): Promise<{ email: string; createdAt: string }> };

/** What the broken doubles get wrong: one row too many from every SELECT, or NotFound as PermissionDenied. */
type Breakage = "none" | "extra-row" | "wrong-code";

/** A postgres double whose SELECTs answer one row too many (below the tracer, as a buggy engine would). */
function brokenPostgres(honest: Dependency<Pool>, breakage: Breakage): Dependency<Pool> {
  if (breakage !== "extra-row") return honest;
  return {
    ...honest,
    async double(context) {
      const handle = await honest.double(context);
      type Client = { query: (...args: unknown[]) => Promise<{ rows: unknown[] }> };
      const pool = handle.client as unknown as { connect: (callback?: unknown) => unknown };
      const connect = pool.connect.bind(pool);
      const broken = new WeakSet<Client>();
      const addRow = (result: { rows: unknown[] }) => {
        if (result?.rows.length > 0) result.rows.push(result.rows[0]);
        return result;
      };
      const breakClient = (client: Client) => {
        if (broken.has(client)) return client;
        broken.add(client);
        const query = client.query.bind(client);
        client.query = (...args: unknown[]) => {
          const last = args[args.length - 1];
          if (typeof last === "function") {
            return query(...args.slice(0, -1), (error: unknown, result: { rows: unknown[] }) =>
              last(error, addRow(result)),
            );
          }
          return query(...args).then(addRow);
        };
        return client;
      };
      // pg's pool.query checks out with a callback; the suite's pool.connect() with a promise.
      pool.connect = (callback?: unknown) =>
        typeof callback === "function"
          ? connect((error: unknown, client: Client | undefined, done: unknown) =>
              callback(error, client && breakClient(client), done),
            )
          : (connect() as Promise<Client>).then(breakClient);
      return handle;
    },
  };
}

/** A service as a Connect client would see it: an unknown account is NotFound (code 5), or 7 when broken. */
function accountService(pool: () => Pool, breakage: Breakage): Dependency<Rpc> {
  const handle = {
    client: {
      async getAccount({ email }: { email: string }) {
        const { rows } = await pool().query("select email, created_at from accounts where email = $1", [
          email,
        ]);
        if (rows.length === 0) {
          throw Object.assign(new Error(`account ${email} not found`), {
            name: "ConnectError",
            code: breakage === "wrong-code" ? 7 : 5,
          });
        }
        return { email: rows[0].email, createdAt: rows[0].created_at.toISOString() };
      },
    },
    implementation: "in-process",
    target: "in-process",
    reset: async () => {},
    close: async () => {},
  };
  return {
    kind: "grpc:accounts",
    variables: [],
    describeTarget: () => "",
    double: async () => handle,
    live: async () => handle,
  };
}

/** Runs one test body in a fresh environment and returns its trace. */
async function traceOf(breakage: Breakage, label: string): Promise<TestTrace> {
  let db: Pool | undefined;
  const environment = await createIntegrationEnvironment({
    service: "drift-harness",
    dependencies: {
      db: brokenPostgres(postgres({ migrations, urlEnv: "DRIFT_HARNESS_DATABASE_URL" }), breakage),
      accounts: accountService(() => db as Pool, breakage),
    },
    env: { INTEGRATION_MODE: "repo" },
    telemetry: memoryTelemetry(),
  });
  db = environment.clients.db;
  const file = join(dir, `${label}.jsonl`);
  const name = "drift-harness.test.ts > writes, reads back, asks the service";
  try {
    beginTestTrace(name, "repo");
    const email = `ada-${randomUUID().slice(0, 8)}@example.test`;
    const { rows } = await environment.clients.db.query(
      "insert into accounts (email) values ($1) returning id, email, created_at",
      [email],
    );
    await environment.clients.db.query("select id, email from accounts where id = $1", [rows[0].id]);
    await environment.clients.accounts.getAccount({ email });
    await environment.clients.accounts.getAccount({ email: "nobody@example.test" }).catch(() => undefined);
    return endTestTrace(name, "pass", file) as TestTrace;
  } finally {
    await environment.close();
  }
}

describe("the drift harness", { timeout: 120_000 }, () => {
  it("stays quiet on an honest double, whatever ids and times it produced", async () => {
    const reference = await traceOf("none", "reference");
    const again = await traceOf("none", "again");
    // The service's own queries go through the same traced pool, inside its calls.
    expect(reference.calls.map((c) => `${c.channel} ${c.call}`)).toEqual([
      "db INSERT",
      "db SELECT",
      "accounts getAccount",
      "db SELECT",
      "accounts getAccount",
      "db SELECT",
    ]);
    expect(JSON.stringify(reference)).not.toMatch(/ada-[0-9a-f]{8}/);
    expect(compareTraces([reference], [{ ...again, mode: "cluster" }]).divergences).toEqual([]);
  });

  it("catches a double that answers one row too many", async () => {
    const reference = await traceOf("none", "reference-rows");
    const broken = await traceOf("extra-row", "broken-rows");
    const [divergence, ...rest] = compareTraces([reference], [broken]).divergences;
    expect(rest).toEqual([]);
    expect(divergence).toMatchObject({ channel: "db", kind: "postgres", index: 0 });
    const rowsOf = (side: unknown) => (side as { outcome: { rows: unknown[] } }).outcome.rows;
    expect(rowsOf(divergence?.from)).toHaveLength(1);
    expect(rowsOf(divergence?.to)).toHaveLength(2);
  });

  it("catches a double that fails with the wrong Connect code", async () => {
    const reference = await traceOf("none", "reference-code");
    const broken = await traceOf("wrong-code", "broken-code");
    const [divergence] = compareTraces([reference], [broken]).divergences;
    expect(divergence).toMatchObject({
      channel: "accounts",
      index: 1,
      from: { call: "getAccount", outcome: { error: "ConnectError", code: "NotFound" } },
      to: { call: "getAccount", outcome: { error: "ConnectError", code: "PermissionDenied" } },
    });
  });
});
