import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { caught, fakeDependency } from "../../tests/helpers.js";
import { declareService } from "../declaration.js";
import { isTestSupportError } from "../errors.js";
import { INTEGRATION_MODE_VARIABLE } from "../mode.js";
import {
  artifactsNameOf,
  buildsFromDryRun,
  emptySelection,
  missingVariables,
  missingVariablesMessage,
  planRun,
  type RunOptions,
  resolveMode,
  suitesFromDryRun,
} from "./plan.js";

const base: RunOptions = { filter: [], affected: false, smoke: false };

const temporary: string[] = [];
afterEach(() => {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function varsFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "vars-file-"));
  temporary.push(dir);
  const file = join(dir, ".env.integration");
  writeFileSync(file, text);
  return file;
}

describe("resolveMode", () => {
  it("takes --mode, else INTEGRATION_MODE, else repo, and says where it came from", () => {
    expect(resolveMode("local", {})).toEqual({ mode: "local", source: "--mode" });
    expect(resolveMode(undefined, { INTEGRATION_MODE: "cluster" })).toEqual({
      mode: "cluster",
      source: "INTEGRATION_MODE",
    });
    expect(resolveMode(undefined, {})).toEqual({ mode: "repo", source: "default" });
    expect(resolveMode("cluster", { INTEGRATION_MODE: "cluster" })).toEqual({
      mode: "cluster",
      source: "--mode",
    });
  });

  it("refuses --mode that contradicts INTEGRATION_MODE, naming both", async () => {
    const error = await caught(async () => resolveMode("repo", { INTEGRATION_MODE: "cluster" }));
    expect(isTestSupportError(error, "MODE_CONFLICT")).toBe(true);
    expect(error.message).toContain("--mode=repo conflicts with INTEGRATION_MODE=cluster");
    expect(error.message).toContain("drop --mode to run in cluster mode, or unset INTEGRATION_MODE");
  });

  it.each(["bogus", "", "Cluster", " repo"])(
    "refuses INTEGRATION_MODE=%j through the one parser",
    async (raw) => {
      const error = await caught(async () => resolveMode(undefined, { INTEGRATION_MODE: raw }));
      expect(isTestSupportError(error, "INVALID_MODE")).toBe(true);
      expect(error.message).toContain(`INTEGRATION_MODE=${JSON.stringify(raw)} is not a mode`);
      expect(error.message).toContain("pass --mode");
      // An invalid variable is refused even when --mode is given: it would mislead every other tool.
      expect(
        isTestSupportError(await caught(async () => resolveMode("repo", { INTEGRATION_MODE: raw }))),
      ).toBe(true);
    },
  );
});

describe("planRun", () => {
  it("sets the mode for every task and replays nothing in cluster mode", () => {
    expect(planRun(base, {}).env).toEqual({ INTEGRATION_MODE: "repo" });
    expect(planRun(base, {}).turboArgs).toEqual(["run", "test:integration", "--continue"]);
    expect(planRun({ ...base, mode: "cluster" }, {}).turboArgs).toContain("--force");
    expect(planRun(base, { INTEGRATION_MODE: "cluster" }).turboArgs).toContain("--force");
  });

  it("obeys INTEGRATION_MODE when --mode is absent", () => {
    const plan = planRun(base, { INTEGRATION_MODE: "local" });
    expect(plan.mode).toBe("local");
    expect(plan.modeSource).toBe("INTEGRATION_MODE");
    expect(plan.env[INTEGRATION_MODE_VARIABLE]).toBe("local");
  });

  it("passes --force to turbo in any mode", () => {
    expect(planRun({ ...base, force: true }, {}).turboArgs).toEqual([
      "run",
      "test:integration",
      "--continue",
      "--force",
    ]);
  });

  it("passes filters and --affected to turbo run, turbo ls and the dry run alike, with the base ref", () => {
    const plan = planRun(
      { ...base, filter: ["@org/threads", "./services/*"], affected: true, base: "origin/main" },
      {},
    );
    const selection = ["--filter=@org/threads", "--filter=./services/*", "--affected"];
    expect(plan.turboArgs).toEqual(["run", "test:integration", "--continue", ...selection]);
    expect(plan.lsArgs).toEqual(["ls", "--output=json", ...selection]);
    expect(plan.dryRunArgs).toEqual(["run", "test:integration", "--dry=json", ...selection]);
    expect(plan.env.TURBO_SCM_BASE).toBe("origin/main");
  });

  it("marks a smoke run for the suites' configs", () => {
    expect(planRun({ ...base, smoke: true }, {}).env.INTEGRATION_SMOKE).toBe("1");
  });

  it("fills in variables from the vars file without overriding the caller's, and never takes the mode from it", () => {
    const file = varsFile(
      "# comment\nREDIS_URL=redis://a:6379\nFGA_API_URL=http://b:8080\nINTEGRATION_MODE=repo\n",
    );
    const plan = planRun({ ...base, mode: "cluster", varsFile: file }, { FGA_API_URL: "http://mine:8080" });
    expect(plan.env).toEqual({ REDIS_URL: "redis://a:6379", INTEGRATION_MODE: "cluster" });
    expect(plan.fromVarsFile).toEqual(["REDIS_URL"]);
    expect(plan.ignoredFromVarsFile).toEqual(["INTEGRATION_MODE"]);
  });

  it("says which vars file it cannot read and how to make one", async () => {
    const error = await caught(async () =>
      planRun({ ...base, varsFile: "/nonexistent/.env.integration" }, {}),
    );
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error.message).toContain("--vars-file /nonexistent/.env.integration cannot be read (ENOENT)");
    expect(error.message).toContain("bash scripts/cluster-up.sh > .env.integration");
  });
});

describe("emptySelection", () => {
  it("is a success when --affected finds nothing changed", () => {
    const outcome = emptySelection({ affected: true, filter: [], base: "origin/main" }, true);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.message).toContain("nothing is affected against origin/main");
    const within = emptySelection({ affected: true, filter: ["./services/*"] }, true);
    expect(within).toMatchObject({ exitCode: 0 });
    expect(within.message).toContain("within --filter ./services/*");
  });

  it.each([false, true])(
    "is a failure when a filter matches no package at all (--affected %s), and says how to list them",
    (affected) => {
      const outcome = emptySelection({ affected, filter: ["@org/thread"] }, false);
      expect(outcome.exitCode).toBe(1);
      expect(outcome.message).toContain("no package with integration suites matches --filter @org/thread");
      expect(outcome.message).toContain("pnpm exec turbo ls");
    },
  );
});

describe("missingVariables", () => {
  const declarations = [
    declareService("threads", {
      db: fakeDependency({ variables: ["THREADS_DATABASE_URL"] }).dependency,
      platform: fakeDependency({ variables: ["PLATFORM_GRPC_URL"] }).dependency,
    }),
    declareService("workflows", {
      temporal: fakeDependency({ variables: ["TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"] }).dependency,
    }),
  ];

  it("lists every selected service's unset or empty variables at once", () => {
    const missing = missingVariables(declarations, {
      THREADS_DATABASE_URL: "postgres://x/y_test",
      TEMPORAL_NAMESPACE: "",
    });
    expect(missing).toEqual([
      { service: "threads", dependency: "platform", kind: "fake", variables: ["PLATFORM_GRPC_URL"] },
      {
        service: "workflows",
        dependency: "temporal",
        kind: "fake",
        variables: ["TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"],
      },
    ]);
    expect(
      missingVariables(declarations, {
        THREADS_DATABASE_URL: "a",
        PLATFORM_GRPC_URL: "b",
        TEMPORAL_ADDRESS: "c",
        TEMPORAL_NAMESPACE: "d",
      }),
    ).toEqual([]);
  });

  it("says how to start what the selection needs, and the mode that needs nothing", () => {
    const message = missingVariablesMessage(missingVariables(declarations, {}), [
      "@org/threads",
      "@org/workflows",
    ]);
    expect(message).toContain("cluster mode needs 4 variables that are not set; nothing ran:");
    expect(message).toContain("  - PLATFORM_GRPC_URL (threads.platform, fake)");
    expect(message).toContain(
      "bash scripts/cluster-up.sh --for @org/threads --for @org/workflows > .env.integration",
    );
    expect(message).toContain("--vars-file .env.integration --filter @org/threads --filter @org/workflows");
    expect(message).toContain("--mode=repo");
    expect(message).not.toContain("unset");
  });

  it("needs no selection in its commands when the run selected every package", () => {
    const message = missingVariablesMessage(missingVariables(declarations, {}), []);
    expect(message).toContain("  bash scripts/cluster-up.sh > .env.integration\n");
    expect(message).toContain("  pnpm test:integration --mode=cluster --vars-file .env.integration\n");
  });
});

describe("suitesFromDryRun", () => {
  it("lists the packages with suites, their folders and whether turbo would replay them", () => {
    const json = JSON.stringify({
      tasks: [
        {
          task: "build",
          package: "@org/test-support",
          directory: "packages/test-support",
          cache: { status: "HIT" },
        },
        {
          task: "test:integration",
          package: "@org/threads",
          directory: "services/threads",
          command: "vitest run",
          cache: { status: "MISS" },
        },
        {
          task: "test:integration",
          package: "@org/platform",
          directory: "services/platform",
          command: "vitest run",
          cache: { status: "HIT" },
        },
        { task: "test:integration", package: "@org/docs", directory: "docs", command: "<NONEXISTENT>" },
      ],
    });
    expect(suitesFromDryRun(json)).toEqual([
      { name: "@org/platform", path: "services/platform", cached: true },
      { name: "@org/threads", path: "services/threads", cached: false },
    ]);
  });

  it("says what turbo answered when it is not JSON", async () => {
    const error = await caught(async () => suitesFromDryRun("x  No package found with name 'nope'"));
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error.message).toContain("No package found with name 'nope'");
  });
});

describe("buildsFromDryRun", () => {
  it("lists the packages turbo would build before the suites", () => {
    const json = JSON.stringify({
      tasks: [
        { task: "build", package: "@org/test-support", directory: "packages/test-support", command: "tsc" },
        { task: "build", package: "@org/platform", directory: "services/platform", command: "tsc" },
        {
          task: "test:integration",
          package: "@org/threads",
          directory: "services/threads",
          command: "vitest",
        },
        { task: "build", package: "@org/docs", directory: "docs", command: "<NONEXISTENT>" },
      ],
    });
    expect(buildsFromDryRun(json)).toEqual([
      { name: "@org/platform", path: "services/platform" },
      { name: "@org/test-support", path: "packages/test-support" },
    ]);
    expect(buildsFromDryRun("not json")).toEqual([]);
  });
});

describe("artifactsNameOf", () => {
  it("is the package folder's name", () => {
    expect(artifactsNameOf({ name: "@org/test-support", path: "packages/test-support" })).toBe(
      "test-support",
    );
    expect(artifactsNameOf({ name: "@org/threads", path: "services\\threads\\" })).toBe("threads");
  });
});
