import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { INTEGRATION_MODE_VARIABLE } from "../mode.js";

// The command as users run it: argv and environment in, output and exit code out.
const cli = fileURLToPath(new URL("./test-integration.ts", import.meta.url));
const run = (args: string[], extraEnv: Record<string, string | undefined> = {}) => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  // The mode comes only from what a case passes, never from the shell running the tests.
  if (!(INTEGRATION_MODE_VARIABLE in extraEnv)) delete env[INTEGRATION_MODE_VARIABLE];
  for (const [key, value] of Object.entries(extraEnv)) if (value === undefined) delete env[key];
  const child = spawn(process.execPath, ["--import", "tsx", cli, ...args], { env });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (status) => resolve({ status, stdout, stderr }));
  });
};

/** Every variable @org/test-support's own suites read in cluster mode, unset. */
const NO_CLUSTER_VARIABLES = {
  TEST_SUPPORT_DATABASE_URL: undefined,
  REDIS_URL: undefined,
  FGA_API_URL: undefined,
  TEMPORAL_ADDRESS: undefined,
  TEMPORAL_NAMESPACE: undefined,
};

// Each case starts node and tsx, and some turbo: a process-level bound, not a unit test's 5 s. The cases
// are independent processes, so they run side by side.
describe.concurrent("pnpm test:integration", { timeout: 180_000 }, () => {
  it("exits 2 with the allowed values for a bad --mode", async () => {
    const result = await run(["--mode=Cluster"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Allowed choices are repo, local, cluster");
  });

  it("exits 2 for an invalid INTEGRATION_MODE instead of running repo mode", async () => {
    const result = await run(["--dry-run"], { INTEGRATION_MODE: "bogus" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('INTEGRATION_MODE="bogus" is not a mode');
    expect(result.stdout).not.toContain("mode: repo");
  });

  it("exits 2 when --mode and INTEGRATION_MODE disagree, naming both", async () => {
    const result = await run(["--mode=repo", "--dry-run"], { INTEGRATION_MODE: "cluster" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--mode=repo conflicts with INTEGRATION_MODE=cluster");
  });

  it("exits 2 for an unknown flag and says which", async () => {
    const result = await run(["--bogus"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown option '--bogus'");
  });

  it("exits 2 for a vars file it cannot read, under the new name and the old one after --", async () => {
    for (const args of [
      ["--vars-file", "/nonexistent/.env.integration", "--dry-run"],
      ["--", "--env-file", "/nonexistent/.env.integration", "--dry-run"],
    ]) {
      const result = await run(args);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain("/nonexistent/.env.integration cannot be read (ENOENT)");
    }
  });

  it("obeys INTEGRATION_MODE=cluster: prints the plan, the packages and the targets on --dry-run, and exits 0", async () => {
    const result = await run(["--dry-run", "--filter", "@org/test-support", "--smoke"], {
      INTEGRATION_MODE: "cluster",
      TEST_SUPPORT_DATABASE_URL: "postgres://ci:secret@127.0.0.1:1/it_test",
      REDIS_URL: "redis://127.0.0.1:1/0",
      FGA_API_URL: "http://127.0.0.1:1",
      TEMPORAL_ADDRESS: "127.0.0.1:1",
      TEMPORAL_NAMESPACE: "integration",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("mode: cluster (from INTEGRATION_MODE), smoke subset");
    expect(result.stdout).toContain("packages: @org/test-support");
    expect(result.stdout).toContain("test-support.db (postgres) -> postgres://ci:***@127.0.0.1:1/it_test");
    expect(result.stdout).not.toContain("secret");
    expect(result.stdout).toContain(
      "would run: turbo run test:integration --continue --filter=@org/test-support --force",
    );
  });

  it("stops a cluster run with one list of every missing variable before running anything, exit 2", async () => {
    const result = await run(["--mode=cluster", "--filter", "@org/test-support"], NO_CLUSTER_VARIABLES);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("cluster mode needs 5 variables that are not set; nothing ran:");
    for (const variable of ["TEST_SUPPORT_DATABASE_URL", "REDIS_URL", "FGA_API_URL", "TEMPORAL_ADDRESS"])
      expect(result.stderr).toContain(`  - ${variable}`);
    expect(result.stderr).toContain("bash scripts/cluster-up.sh --for @org/test-support > .env.integration");
    expect(result.stdout).not.toContain("summary");
  });

  it("exits 2 with turbo's reason for a filter that names no package, with or without --affected", async () => {
    const result = await run(["--affected", "--filter", "@org/no-such-package"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("turbo could not plan the run");
    expect(result.stderr).toContain("No package found with name '@org/no-such-package'");
  });

  it("exits 2 for a shard that is not i/n, and for --record-timings on a shard", async () => {
    const bad = await run(["--shard", "3/2", "--dry-run"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--shard "3/2" is not a shard. Write i/n with 1 ≤ i ≤ n ≤ 64');
    const record = await run(["--shard", "1/2", "--record-timings", "--dry-run"]);
    expect(record.status).toBe(2);
    expect(record.stderr).toContain("--record-timings records a whole run's timings; run it without --shard");
  });

  it("plans a shard on --dry-run: its files of all, balanced by the committed timings", async () => {
    const result = await run(["--shard", "2/2", "--dry-run", "--filter", "@org/platform"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /shard 2\/2: [12] of 3 test files \(balanced by tests\/integration\/timings\.json\): services\/platform [12]\n/,
    );
  });

  it("exits 0 for --help and lists the exit codes and the new option name", async () => {
    const result = await run(["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Exit codes: 0 every selected suite passed, or nothing was affected");
    expect(result.stdout).toContain("--vars-file <path>");
    expect(result.stdout).toContain("--force");
    expect(result.stdout).not.toContain("--env-file");
  });
});
