// Local mode against repo mode, side by side in one run: what a test file's environment costs to set up
// (Postgres + Redis + OpenFGA + Temporal together) once the engines are up, its reset and close, and what
// starting each engine cost once. Each mode runs in a process of its own (one process holds one mode).
//   pnpm --filter @org/test-support exec tsx bench/local-mode.ts        (part of `pnpm bench`)
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const runs = Number(process.env.RUNS ?? 9);
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

if (process.argv[2] === "--measure") {
  const { createIntegrationEnvironment, openfga, postgres, redis, temporal } = await import(
    "../src/index.js"
  );
  const { startSupervisor } = await import("../src/local/client.js");
  const { LOCAL_ENGINES_VARIABLE } = await import("../src/local/protocol.js");
  const { integrationModeFrom } = await import("../src/mode.js");
  const mode = integrationModeFrom();
  const supervisor = mode === "local" ? await startSupervisor(process.env, { keepAlive: true }) : undefined;
  if (supervisor) process.env[LOCAL_ENGINES_VARIABLE] = supervisor.url;
  const dependencies = {
    db: postgres({ migrations: new URL("../tests/fixtures/migrations/", import.meta.url), urlEnv: "DB_URL" }),
    cache: redis({ urlEnv: "REDIS_URL" }),
    authz: openfga({ model: new URL("../tests/fixtures/authz.fga", import.meta.url) }),
    workflows: temporal({
      namespaceEnv: "TEMPORAL_NAMESPACE",
      addressEnv: "TEMPORAL_ADDRESS",
      taskQueue: "bench",
    }),
  };
  const open = () =>
    createIntegrationEnvironment({ service: "bench", dependencies, telemetry: { emit() {} } });
  const timed = async <T>(action: () => Promise<T>): Promise<[T, number]> => {
    const started = performance.now();
    const value = await action();
    return [value, performance.now() - started];
  };
  // The first environment starts the engines (local) or compiles PGlite (repo): measured apart.
  const [first, firstMs] = await timed(open);
  await first.close();
  const setUp: number[] = [];
  const reset: number[] = [];
  const close: number[] = [];
  for (let i = 0; i < runs; i++) {
    const [env, setUpMs] = await timed(open);
    await env.clients.cache.set("k", "v");
    await env.clients.db.query("insert into accounts (email) values ('a@x.test')");
    const [, resetMs] = await timed(() => env.reset());
    const [, closeMs] = await timed(() => env.close());
    setUp.push(setUpMs);
    reset.push(resetMs);
    close.push(closeMs);
    // Let the supervisor copy the next database ahead, as it does between test files.
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const stats = await supervisor?.stop();
  console.log(
    JSON.stringify({
      mode,
      firstMs,
      setUpMs: median(setUp),
      resetMs: median(reset),
      closeMs: median(close),
      starts: stats?.starts ?? [],
      fromPool: stats?.databases.fromPool,
      handedOut: stats?.databases.handedOut,
    }),
  );
  process.exit(0);
}

interface Measured {
  mode: string;
  firstMs: number;
  setUpMs: number;
  resetMs: number;
  closeMs: number;
  starts: { kind: string; startMs: number; implementation: string }[];
  fromPool?: number;
  handedOut?: number;
}
const self = fileURLToPath(import.meta.url);
const results: Measured[] = [];
for (const mode of ["repo", "local"]) {
  const child = spawnSync(process.execPath, ["--import", "tsx", self, "--measure"], {
    env: { ...process.env, INTEGRATION_MODE: mode, TEST_SUPPORT_LOCAL_ENGINES: "" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = child.stdout.trim().split("\n").pop() ?? "";
  if (child.status !== 0 || !line.startsWith("{")) {
    console.error(`[bench] ${mode} mode failed (exit ${child.status})`);
    process.exit(1);
  }
  results.push(JSON.parse(line) as Measured);
}
const ms = (value: number) => `${value.toFixed(0)} ms`;
const [repo, local] = results as [Measured, Measured];
console.log(`\nenvironment of Postgres + Redis + OpenFGA + Temporal, median of ${runs} (after the first):`);
console.log("| | repo | local |\n|---|---|---|");
console.log(`| first environment (local: starts the engines) | ${ms(repo.firstMs)} | ${ms(local.firstMs)} |`);
console.log(`| set-up of a test file's environment | ${ms(repo.setUpMs)} | ${ms(local.setUpMs)} |`);
console.log(`| reset after 1 row and 1 key | ${ms(repo.resetMs)} | ${ms(local.resetMs)} |`);
console.log(`| close | ${ms(repo.closeMs)} | ${ms(local.closeMs)} |`);
console.log(
  `\nlocal engines, each started once: ${local.starts.map((s) => `${s.kind} ${ms(s.startMs)}`).join(", ")}; ` +
    `${local.fromPool} of ${local.handedOut} databases were copied ahead of the request`,
);
const target = 200;
console.log(
  `local set-up target (< ${target} ms once the engines are up): ${local.setUpMs < target ? "met" : "NOT met"} (${ms(local.setUpMs)})`,
);
