import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { createIntegrationEnvironment } from "../../src/environment.js";
import { localEngine, startSupervisor } from "../../src/local/client.js";
import { LOCAL_ENGINES_VARIABLE } from "../../src/local/protocol.js";
import { Supervisor } from "../../src/local/supervisor.js";
import { postgres } from "../../src/postgres/postgres.js";
import { redis } from "../../src/redis/redis.js";
import { describeInModes } from "../../src/vitest/index.js";
import { memoryTelemetry } from "../helpers.js";

// Local mode's lifecycle: one engine of each kind per run, shared by every environment, gone when the run
// ends, and stopped by the next run when a run was killed. Each test uses a private runs folder and its
// own supervisor, so the run's own engines are never touched.
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function gone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !alive(pid);
}
const folders: string[] = [];
const privateRoot = () => {
  const root = mkdtempSync(join(tmpdir(), "local-engines-test-"));
  folders.push(root);
  return root;
};
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});
/** The pid of the one engine a run folder lists. */
const recordedPid = (folder: string) =>
  (JSON.parse(readFileSync(join(folder, "engines.json"), "utf8")) as { pid: number }[])[0]?.pid ?? 0;
const migrations = new URL("../fixtures/migrations/", import.meta.url);

describeInModes(["local"], "local engines", () => {
  it("start once per run: environments share one server of each kind, each in its own database and key prefix", async () => {
    const supervisor = await startSupervisor({ ...process.env, INTEGRATION_LOCAL_DIR: privateRoot() });
    const env = { ...process.env, INTEGRATION_MODE: "local", [LOCAL_ENGINES_VARIABLE]: supervisor.url };
    const open = () =>
      createIntegrationEnvironment({
        service: "local-engines",
        dependencies: {
          db: postgres({ migrations, urlEnv: "DB_URL" }),
          cache: redis({ urlEnv: "REDIS_URL" }),
        },
        env,
        telemetry: memoryTelemetry(),
      });
    try {
      const [first, second] = await Promise.all([open(), open()]);
      const third = await open();
      const servers = [first, second, third].map(
        (e) => new URL(e.targets.db.target.split(" ")[0] ?? "").host,
      );
      expect(new Set(servers).size).toBe(1);
      const databases = await Promise.all(
        [first, second, third].map(
          async (e) => (await e.clients.db.query("select current_database() as d")).rows[0]?.d,
        ),
      );
      expect(new Set(databases).size).toBe(3);
      // Each database starts as the migrations left it, whatever another environment wrote.
      await first.clients.db.query("insert into accounts (email) values ('only-in-first@x.test')");
      const counts = await Promise.all(
        [second, third].map(
          async (e) => (await e.clients.db.query("select count(*)::int as n from accounts")).rows[0]?.n,
        ),
      );
      expect(counts).toEqual([0, 0]);
      await first.clients.cache.set("k", "first");
      expect(await second.clients.cache.get("k")).toBeNull();
      expect(new Set([first, second, third].map((e) => e.targets.cache.target.split(" ")[0])).size).toBe(1);
      await Promise.all([first.close(), second.close(), third.close()]);
      const stats = await supervisor.stats();
      expect(stats.starts.map((s) => s.kind).sort()).toEqual(["postgres", "redis"]);
      expect(stats.databases).toMatchObject({ handedOut: 3, templates: 1 });
    } finally {
      await supervisor.stop();
    }
  });

  it("stop with the process that started them, even when it is killed", async () => {
    const root = privateRoot();
    // An owner process that starts a supervisor and its redis-server, says their pids, then waits to be killed.
    const script = `
      import { startSupervisor, localEngine } from ${JSON.stringify(fileURLToPath(new URL("../../src/local/client.ts", import.meta.url)))};
      const supervisor = await startSupervisor(process.env);
      process.env.${LOCAL_ENGINES_VARIABLE} = supervisor.url;
      const info = await localEngine("redis", process.env);
      console.log(JSON.stringify({ supervisor: supervisor.pid, port: new URL(info.url).port }));
      setInterval(() => {}, 1000);
    `;
    const owner = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      env: { ...process.env, INTEGRATION_LOCAL_DIR: root, [LOCAL_ENGINES_VARIABLE]: "" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise<string>((resolve) =>
      createInterface({ input: owner.stdout as NodeJS.ReadableStream }).once("line", resolve),
    );
    const { supervisor } = JSON.parse(line) as { supervisor: number };
    const folder = join(root, `run-${supervisor}`);
    expect(existsSync(folder)).toBe(true);
    const redisPid = recordedPid(folder);
    expect(alive(redisPid)).toBe(true);
    owner.kill("SIGKILL");
    expect(await gone(supervisor, 10_000)).toBe(true);
    expect(await gone(redisPid, 1000)).toBe(true);
    expect(existsSync(folder)).toBe(false);
  }, 60_000);

  it("a run finds what a killed supervisor left, stops it and says so", async () => {
    const root = privateRoot();
    const victim = await startSupervisor({ ...process.env, INTEGRATION_LOCAL_DIR: root });
    const info = await localEngine("redis", { [LOCAL_ENGINES_VARIABLE]: victim.url });
    const folder = join(root, `run-${victim.pid}`);
    const redisPid = recordedPid(folder);
    process.kill(victim.pid, "SIGKILL");
    expect(await gone(victim.pid, 5000)).toBe(true);
    // Killed outright, it could stop nothing: its redis-server still answers.
    expect(alive(redisPid)).toBe(true);
    expect(info.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const next = new Supervisor({ ...process.env, INTEGRATION_LOCAL_DIR: root });
    try {
      expect(next.stats().swept).toEqual([
        `a run that was killed (supervisor pid ${victim.pid}) left redis (pid ${redisPid}) running: stopped them and removed ${folder}`,
      ]);
      expect(await gone(redisPid, 5000)).toBe(true);
      expect(readdirSync(root)).toEqual([`run-${process.pid}`]);
    } finally {
      await next.stop();
    }
  }, 60_000);
});
