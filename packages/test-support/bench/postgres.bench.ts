// Postgres set-up, reset and a whole test, per engine, in one run: pg-mem, PGlite and (when
// TEST_SUPPORT_DATABASE_URL is set) a PostgreSQL server. The issue's workload: 10 tables; a test dirties
// 2 of them; a whole test is 20 inserts, 5 selects and a reset. Builders are called directly (not the
// factory) so the three run in one process. Medians and p95 go to stdout and artifacts/bench/postgres.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, bench, describe } from "vitest";
import type { DependencyContext, DependencyHandle } from "../src/dependency.js";
import { type PostgresClient, type PostgresEngine, postgres } from "../src/index.js";

const migrations = new URL("../tests/fixtures/bench-migrations/", import.meta.url);
const url = process.env.TEST_SUPPORT_DATABASE_URL;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const SETUPS = Number(process.env.BENCH_SETUPS ?? 10);

let built = 0;
function context(mode: "repo" | "cluster"): DependencyContext {
  return {
    service: "bench",
    name: "db",
    mode,
    runId: "bench",
    instanceId: `bench${process.pid.toString(36)}${(built++).toString(36)}`,
    workerId: "0",
    env: { ...process.env, INTEGRATION_MODE: mode },
    connectTimeoutMs: 10_000,
    setupTimeoutMs: 60_000,
    operationTimeoutMs: 10_000,
    signal: new AbortController().signal,
    connected() {},
  };
}

type Engine = { label: string; open: () => Promise<DependencyHandle<PostgresClient>> };
const engines: Engine[] = (["pg-mem", "pglite"] as PostgresEngine[]).map((engine) => ({
  label: engine === "pglite" ? "PGlite" : "pg-mem",
  open: () => postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL", engine }).double(context("repo")),
}));
if (url) {
  engines.push({
    label: "PostgreSQL",
    open: () => postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL" }).live(context("cluster")),
  });
}

const samples = new Map<string, number[]>();
const record = (key: string, ms: number) => samples.set(key, [...(samples.get(key) ?? []), ms]);
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

async function dirtyTwo(db: PostgresClient) {
  await db.query("insert into t0 (name) values ('a')");
  await db.query("insert into t1 (name) values ('b')");
}

async function wholeTest(db: PostgresClient) {
  for (let i = 0; i < 20; i++)
    await db.query(`insert into t${i % 2} (name, amount) values ($1, $2)`, [`n${i}`, i]);
  for (let i = 0; i < 5; i++)
    await db.query("select id, name, amount from t0 where amount > $1 order by id", [i]);
}

const handles = new Map<string, DependencyHandle<PostgresClient>>();
const extra: string[] = [];

beforeAll(async () => {
  for (const engine of engines) {
    if (engine.label === "PGlite") {
      // Before any other PGlite in this process, so the first instance's cost (compiled engine) shows.
      const mib = (n: number) => (n / 1048576).toFixed(0);
      const rss = [process.memoryUsage().rss];
      const held: DependencyHandle<PostgresClient>[] = [];
      for (let i = 0; i < 3; i++) {
        held.push(await engine.open());
        rss.push(process.memoryUsage().rss);
      }
      extra.push(
        `PGlite: resident set ${mib(rss[0] ?? 0)} MiB before, +${mib((rss[1] ?? 0) - (rss[0] ?? 0))} MiB for the first instance, ` +
          `+${mib(((rss[3] ?? 0) - (rss[1] ?? 0)) / 2)} MiB for each further one held at once`,
      );
      for (const h of held) await h.close();
    }
    // The first set-up in a process builds or loads the snapshot (PGlite) and compiles the engine.
    const started = performance.now();
    const first = await engine.open();
    extra.push(
      `${engine.label}: first set-up in this process ${(performance.now() - started).toFixed(0)} ms`,
    );
    await first.close();
    let cpu = 0;
    for (let i = 0; i < SETUPS; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const handle = await engine.open();
      record(`${engine.label}|set-up`, performance.now() - t0);
      const used = process.cpuUsage(c0);
      cpu += (used.user + used.system) / 1000;
      await handle.close();
    }
    extra.push(`${engine.label}: CPU time of this process per set-up ${(cpu / SETUPS).toFixed(0)} ms (mean)`);
    handles.set(engine.label, await engine.open());
  }
}, 600_000);

afterAll(async () => {
  for (const handle of handles.values()) await handle.close();
  const rows = [
    "| engine | set-up median | set-up p95 | reset median | reset p95 | test median | test p95 |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const engine of engines) {
    const cell = (what: string, q: number) =>
      `${quantile(samples.get(`${engine.label}|${what}`) ?? [], q).toFixed(2)} ms`;
    rows.push(
      `| ${engine.label} | ${cell("set-up", 0.5)} | ${cell("set-up", 0.95)} | ${cell("reset", 0.5)} | ${cell("reset", 0.95)} | ${cell("test", 0.5)} | ${cell("test", 0.95)} |`,
    );
  }
  const text = [
    `Postgres bench (${ROUNDS} resets and tests, ${SETUPS} set-ups per engine; reset after 2 of 10 tables dirtied; a test = 20 inserts, 5 selects, reset)`,
    "",
    ...rows,
    "",
    ...extra.map((line) => `- ${line}`),
    url ? "" : "- PostgreSQL not run: set TEST_SUPPORT_DATABASE_URL to include it.",
  ].join("\n");
  console.log(`\n${text}\n`);
  const dir = new URL("../../../artifacts/bench/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL("postgres.md", dir), `${text}\n`);
});

for (const engine of engines) {
  describe(engine.label, () => {
    bench(
      "reset after 2 of 10 tables were written",
      async () => {
        const handle = handles.get(engine.label) as DependencyHandle<PostgresClient>;
        await dirtyTwo(handle.client);
        const t0 = performance.now();
        await handle.reset();
        record(`${engine.label}|reset`, performance.now() - t0);
      },
      { iterations: ROUNDS, time: 0, warmupIterations: 0, warmupTime: 0 },
    );
    bench(
      "a whole test: 20 inserts, 5 selects, reset",
      async () => {
        const handle = handles.get(engine.label) as DependencyHandle<PostgresClient>;
        const t0 = performance.now();
        await wholeTest(handle.client);
        await handle.reset();
        record(`${engine.label}|test`, performance.now() - t0);
      },
      { iterations: ROUNDS, time: 0, warmupIterations: 0, warmupTime: 0 },
    );
  });
}
