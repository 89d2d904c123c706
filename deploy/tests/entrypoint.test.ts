import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "./tools.js";

// The image's entrypoint, run directly (no container engine here) with a stand-in for the runner that
// records its arguments and writes results as the real one does.
const entrypoint = `${root}deploy/runner/entrypoint.sh`;

function workdir(): { dir: string; calls: string } {
  const dir = mkdtempSync(join(tmpdir(), "entrypoint-helm-"));
  const calls = join(dir, "calls");
  const runner = join(dir, "fake-runner");
  writeFileSync(
    runner,
    `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >> "${calls}"\nmkdir -p artifacts/platform\n` +
      `printf '<testsuites><testcase name="a"/></testsuites>' > artifacts/platform/junit-shard-2-of-2-cluster.xml\n` +
      `printf '{"service":"platform"}' > artifacts/platform/summary.json\nexit "\${FAKE_EXIT:-0}"\n`,
  );
  chmodSync(runner, 0o755);
  return { dir, calls };
}

function start(env: Record<string, string | undefined>, args: string[] = []) {
  const { dir, calls } = workdir();
  const base: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    INTEGRATION_WORKDIR: dir,
    INTEGRATION_RUNNER_COMMAND: join(dir, "fake-runner"),
  };
  const merged = { ...base, ...env };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  const result = spawnSync("bash", [entrypoint, ...args], {
    env: merged as NodeJS.ProcessEnv,
    encoding: "utf8",
  });
  return { ...result, dir, ran: existsSync(calls) ? readFileSync(calls, "utf8").trim() : undefined };
}

describe("the runner image's entrypoint", () => {
  it.each([
    ["unset", undefined, "INTEGRATION_MODE is not set. Set it to repo, local or cluster"],
    ["empty", "", 'INTEGRATION_MODE="" is not a mode. Allowed values are repo, local, cluster'],
    ["in the wrong case", "Cluster", 'INTEGRATION_MODE="Cluster" is not a mode'],
    ["unknown", "mock", 'INTEGRATION_MODE="mock" is not a mode'],
  ])("refuses to start when INTEGRATION_MODE is %s, and runs nothing", (_, mode, message) => {
    const result = start({ INTEGRATION_MODE: mode });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`[integration-runner] refusing to start: ${message}`);
    expect(result.ran).toBeUndefined();
  });

  it.each([
    [{ INTEGRATION_SHARDS: "2" }, "INTEGRATION_SHARDS=2 needs JOB_COMPLETION_INDEX"],
    [
      { INTEGRATION_SHARDS: "2", JOB_COMPLETION_INDEX: "2" },
      'JOB_COMPLETION_INDEX="2" is not an index below INTEGRATION_SHARDS=2',
    ],
    [{ INTEGRATION_SHARDS: "0" }, 'INTEGRATION_SHARDS="0" must be a whole number from 1 to 64'],
    [{ INTEGRATION_SHARDS: "x" }, 'INTEGRATION_SHARDS="x" must be a whole number from 1 to 64'],
  ])("refuses shard settings it cannot map to --shard: %j", (env, message) => {
    const result = start({ INTEGRATION_MODE: "repo", ...env });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.ran).toBeUndefined();
  });

  it("runs the runner with its arguments and the Job index as --shard i+1/n", () => {
    const result = start(
      { INTEGRATION_MODE: "cluster", INTEGRATION_SHARDS: "2", JOB_COMPLETION_INDEX: "1" },
      ["--filter", "@org/platform"],
    );
    expect(result.stderr).toBe(
      "[integration-runner] cluster mode, shard-2-of-2: " +
        `${result.dir}/fake-runner --filter @org/platform --shard 2/2\n`,
    );
    expect(result.status).toBe(0);
    expect(result.ran).toBe("--filter @org/platform --shard 2/2");
  });

  it("runs unsharded with one shard, and passes the runner's failure on", () => {
    const result = start({ INTEGRATION_MODE: "repo", JOB_COMPLETION_INDEX: "0", FAKE_EXIT: "1" });
    expect(result.ran).toBe("");
    expect(result.status).toBe(1);
  });

  it("prints the results into its log, and scripts/results-from-log.sh gives them back", () => {
    const result = start({
      INTEGRATION_MODE: "cluster",
      INTEGRATION_SHARDS: "2",
      JOB_COMPLETION_INDEX: "1",
      INTEGRATION_RESULTS_TO_LOG: "1",
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("----- integration-results shard-2-of-2 begin -----");
    const out = join(result.dir, "extracted");
    mkdirSync(out);
    // The log as kubectl returns it: the runner's output around the archive.
    const log = `some runner output\n${result.stdout}\nmore\n`;
    const extracted = spawnSync("bash", [`${root}scripts/results-from-log.sh`, out], {
      input: log,
      encoding: "utf8",
    });
    expect(extracted.status).toBe(0);
    expect(readdirSync(join(out, "shard-2-of-2", "platform")).sort()).toEqual([
      "junit-shard-2-of-2-cluster.xml",
      "summary.json",
    ]);
    expect(readFileSync(join(out, "shard-2-of-2", "platform", "summary.json"), "utf8")).toBe(
      '{"service":"platform"}',
    );
  });

  it("results-from-log.sh fails when the log holds no results", () => {
    const dir = mkdtempSync(join(tmpdir(), "entrypoint-helm-"));
    const extracted = spawnSync("bash", [`${root}scripts/results-from-log.sh`, dir], {
      input: "crashed\n",
      encoding: "utf8",
    });
    expect(extracted.status).toBe(1);
    expect(extracted.stderr).toContain("no results archive in the log");
  });
});
