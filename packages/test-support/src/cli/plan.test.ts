import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isTestSupportError } from "../errors.js";
import { planRun, type RunOptions } from "./plan.js";

const base: RunOptions = { mode: "repo", filter: [], affected: false, smoke: false };

describe("planRun", () => {
  it("sets the mode for every task and replays nothing in cluster mode", () => {
    expect(planRun(base, {}).env).toEqual({ INTEGRATION_MODE: "repo" });
    expect(planRun(base, {}).turboArgs).toEqual(["run", "test:integration", "--continue"]);
    expect(planRun({ ...base, mode: "cluster" }, {}).turboArgs).toContain("--force");
  });

  it("passes filters and --affected to turbo run and turbo ls alike, with the base ref", () => {
    const plan = planRun(
      { ...base, filter: ["@org/threads", "./services/*"], affected: true, base: "origin/main" },
      {},
    );
    expect(plan.turboArgs).toEqual([
      "run",
      "test:integration",
      "--continue",
      "--filter=@org/threads",
      "--filter=./services/*",
      "--affected",
    ]);
    expect(plan.lsArgs).toEqual([
      "ls",
      "--output=json",
      "--filter=@org/threads",
      "--filter=./services/*",
      "--affected",
    ]);
    expect(plan.env.TURBO_SCM_BASE).toBe("origin/main");
  });

  it("marks a smoke run for the suites' configs", () => {
    expect(planRun({ ...base, smoke: true }, {}).env.INTEGRATION_SMOKE).toBe("1");
  });

  it("fills in variables from --env-file without overriding the caller's, and never takes the mode from it", () => {
    const file = join(mkdtempSync(join(tmpdir(), "envfile-")), ".env.integration");
    writeFileSync(
      file,
      "# comment\nREDIS_URL=redis://a:6379\nFGA_API_URL=http://b:8080\nINTEGRATION_MODE=repo\n",
    );
    const plan = planRun({ ...base, mode: "cluster", envFile: file }, { FGA_API_URL: "http://mine:8080" });
    expect(plan.env).toEqual({ REDIS_URL: "redis://a:6379", INTEGRATION_MODE: "cluster" });
    expect(plan.fromEnvFile).toEqual(["REDIS_URL"]);
  });

  it("says which --env-file it cannot read and how to make one", () => {
    let caught: unknown;
    try {
      planRun({ ...base, envFile: "/nonexistent/.env.integration" }, {});
    } catch (error) {
      caught = error;
    }
    expect(isTestSupportError(caught, "INVALID_OPTIONS")).toBe(true);
    expect((caught as Error).message).toContain(
      "--env-file /nonexistent/.env.integration cannot be read (ENOENT)",
    );
  });
});
