// `pnpm --filter @org/test-support pollution`: runs the pollution detector (two files of generated tests,
// one per worker) in the mode INTEGRATION_MODE selects, then reports what each file counted after its last
// reset and, in cluster mode, what is left on the servers under the detector's service name. Every count
// must be zero, and the files must have run in two processes.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { integrationModeFrom, resolveArtifactsDir } from "../../src/index.js";
import type { PollutionCounts } from "./suite.js";

const mode = integrationModeFrom();
const folder = join(resolveArtifactsDir(process.env), "test-support", "pollution");
rmSync(folder, { recursive: true, force: true });
const started = performance.now();
const vitest = spawnSync("pnpm", ["exec", "vitest", "run", "--config", "tests/pollution/vitest.config.ts"], {
  cwd: fileURLToPath(new URL("../..", import.meta.url)),
  stdio: "inherit",
});
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const files: PollutionCounts[] = existsSync(folder)
  ? readdirSync(folder)
      .filter((name) => name.startsWith(`${mode}-`))
      .map((name) => JSON.parse(readFileSync(join(folder, name), "utf8")) as PollutionCounts)
  : [];
const problems: string[] = [];
if (vitest.status !== 0)
  problems.push(`vitest exited with ${vitest.status}: a test saw another test's data, or failed`);
if (files.length !== 2) problems.push(`expected counts from 2 files, got ${files.length}`);
if (new Set(files.map((f) => f.pid)).size !== 2)
  problems.push("the two files did not run in two worker processes");
const tests = files.reduce((n, f) => n + f.tests, 0);
const sum = (key: keyof PollutionCounts["remaining"]) => files.reduce((n, f) => n + f.remaining[key], 0);
const remaining = { rows: sum("rows"), keys: sum("keys"), tuples: sum("tuples") };

/** In cluster mode: what is left on the servers under the detector's service name, after every close. */
async function onServers(): Promise<Record<string, number>> {
  const left: Record<string, number> = {};
  const database = process.env.TEST_SUPPORT_DATABASE_URL;
  if (database) {
    const db = new pg.Client({ connectionString: database });
    await db.connect();
    left.schemas = Number(
      (await db.query("select count(*) as n from pg_namespace where nspname like 'it\\_pollution\\_%'"))
        .rows[0]?.n,
    );
    const leases = await db.query("select to_regclass('test_support_leases.schemas') is not null as found");
    left.schemaLeases = leases.rows[0]?.found
      ? Number(
          (
            await db.query(
              "select count(*) as n from test_support_leases.schemas where schema_name like 'it\\_pollution\\_%'",
            )
          ).rows[0]?.n,
        )
      : 0;
    await db.end();
  }
  const redisUrl = process.env.REDIS_URL;
  if (redisUrl) {
    const redis = new Redis(redisUrl);
    let cursor = "0";
    let keys = 0;
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", "it:pollution:*", "COUNT", 1000);
      cursor = next;
      keys += found.length;
    } while (cursor !== "0");
    left.keys = keys;
    left.keyLeases = Object.keys(await redis.hgetall("it:leases")).filter((p) =>
      p.startsWith("it:pollution:"),
    ).length;
    redis.disconnect();
  }
  const fga = process.env.FGA_API_URL;
  if (fga) {
    let stores = 0;
    let token = "";
    do {
      const page = (await (
        await fetch(
          `${fga.replace(/\/+$/, "")}/stores?page_size=100${token ? `&continuation_token=${token}` : ""}`,
        )
      ).json()) as { stores?: { name: string }[]; continuation_token?: string };
      stores += (page.stores ?? []).filter((s) => s.name.startsWith("it-pollution-")).length;
      token = page.continuation_token ?? "";
    } while (token);
    left.stores = stores;
  }
  return left;
}

const servers = mode === "cluster" ? await onServers() : {};
const lines = [
  `[pollution] ${mode} mode: ${tests} generated tests in ${files.length} files on ${new Set(files.map((f) => f.pid)).size} workers, ${seconds} s`,
  `[pollution] left after each file's last reset: ${remaining.rows} rows, ${remaining.keys} keys, ${remaining.tuples} tuples`,
  ...(mode === "cluster"
    ? [
        `[pollution] left on the servers after close: ${Object.entries(servers)
          .map(([k, v]) => `${v} ${k}`)
          .join(", ")}`,
      ]
    : []),
];
for (const line of lines) console.log(line);
if (tests < 1000) problems.push(`only ${tests} tests ran; the detector needs at least 1,000`);
if (remaining.rows + remaining.keys + remaining.tuples > 0) problems.push("data was left after a reset");
if (Object.values(servers).some((n) => n > 0)) problems.push("objects were left on the servers");
for (const problem of problems) console.error(`[pollution] FAILED: ${problem}`);
process.exitCode = problems.length === 0 ? 0 : 1;
