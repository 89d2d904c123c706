// What recording a test's trace costs: the same test-like unit of work (Postgres writes and reads, Redis
// commands, OpenFGA writes and checks, on repo mode's doubles) with the trace recorder on and off, in one
// run. Prints the median of each and the overhead; the target is under 10%.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, bench, describe } from "vitest";
import {
  createIntegrationEnvironment,
  type IntegrationEnvironment,
  openfga,
  postgres,
  redis,
} from "../src/index.js";
import { beginTestTrace, endTestTrace } from "../src/trace/recorder.js";

const dependencies = {
  db: postgres({
    migrations: new URL("../tests/fixtures/migrations/", import.meta.url),
    urlEnv: "BENCH_DATABASE_URL",
  }),
  cache: redis({ urlEnv: "REDIS_URL" }),
  authz: openfga({ model: new URL("../tests/fixtures/authz.fga", import.meta.url) }),
};
let env: IntegrationEnvironment<typeof dependencies>;
const dir = mkdtempSync(join(tmpdir(), "trace-bench-"));
const file = join(dir, "trace-repo.jsonl");
let n = 0;

/** One test's worth of calls: 6 queries, 6 commands, 3 OpenFGA requests. */
async function unitOfWork(): Promise<void> {
  const { db, cache, authz } = env.clients;
  const email = `user-${n++}@example.test`;
  const { rows } = await db.query("insert into accounts (email) values ($1) returning id, created_at", [
    email,
  ]);
  await db.query("insert into notes (account_id, body) values ($1, $2), ($1, $3)", [rows[0].id, "a", "b"]);
  await db.query(
    "select n.id, n.body, a.email from notes n join accounts a on a.id = n.account_id where a.id = $1",
    [rows[0].id],
  );
  await db.query("select count(*) from notes");
  await db.query("update notes set body = body || '!' where account_id = $1", [rows[0].id]);
  await db.query("select * from accounts where email = $1", [email]);
  await cache.set(`session:${n}`, email, "EX", 60);
  await cache.get(`session:${n}`);
  await cache.hset(`user:${n}`, { email, plan: "pro" });
  await cache.hgetall(`user:${n}`);
  await cache.incr("hits");
  await cache.del(`session:${n}`);
  await authz.writeTuples([{ user: `user:u${n}`, relation: "admin", object: "tenant:acme" }]);
  await authz.check({ user: `user:u${n}`, relation: "admin", object: "tenant:acme" });
  await authz.check({ user: "user:nobody", relation: "admin", object: "tenant:acme" });
}

const durations = { on: [] as number[], off: [] as number[] };
async function once(which: "on" | "off"): Promise<void> {
  const started = performance.now();
  if (which === "on") beginTestTrace(`bench > unit ${n}`, "repo");
  await unitOfWork();
  if (which === "on") endTestTrace(`bench > unit ${n}`, "pass", file);
  durations[which].push(performance.now() - started);
}
let flip = false;
/** One unit recorded and one not, in alternating order, so the machine's load and the tables' growth hit both alike. */
async function pair(): Promise<void> {
  flip = !flip;
  await once(flip ? "on" : "off");
  await once(flip ? "off" : "on");
}
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

beforeAll(async () => {
  env = await createIntegrationEnvironment({
    service: "trace-bench",
    dependencies,
    env: { INTEGRATION_MODE: "repo" },
    telemetry: { emit() {} },
  });
  // Warm every path once before anything is timed.
  await unitOfWork();
}, 120_000);

afterAll(async () => {
  const on = median(durations.on);
  const off = median(durations.off);
  console.log(
    `one test's calls (15 calls), median: recording ${on.toFixed(3)} ms, not recording ${off.toFixed(3)} ms, ` +
      `overhead ${(((on - off) / off) * 100).toFixed(1)}% (${durations.on.length} and ${durations.off.length} runs)`,
  );
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("trace recording on repo mode's doubles", () => {
  bench("one unit of work recorded and one not", pair, { time: 8000 });
});
