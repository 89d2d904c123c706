import { mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it, vi } from "vitest";
import { integrationConfig } from "./config.js";

it("files JUnit under artifacts/<service>/junit-<mode>.xml at the workspace root, and adds a unit project on request", () => {
  const config = integrationConfig({
    service: "billing",
    root: new URL("../../", import.meta.url),
    unit: ["src/**/*.test.ts"],
  });
  const test = config.test ?? {};
  const junit = (test.outputFile as { junit: string }).junit;
  expect(junit).toMatch(/\/artifacts\/billing\/junit-(repo|local|cluster)\.xml$/);
  expect(junit).not.toContain("/packages/");
  const [, junitReporter] = (
    test.reporters as [string, [string, { suiteName: string; classnameTemplate: string }]]
  )[1];
  expect(junitReporter.suiteName).toMatch(/^billing integration-(repo|local|cluster)$/);
  expect(junitReporter.classnameTemplate).toMatch(/^integration-(repo|local|cluster):\{filename\}$/);
  expect((test.projects as { test: { name: string } }[]).map((p) => p.test.name)).toEqual([
    "unit",
    "integration",
  ]);
});

it("runs one worker per core, so a 2-core machine runs two files at once (Vitest's default would run one)", () => {
  const config = integrationConfig({ service: "billing", root: new URL("../../", import.meta.url) });
  expect(config.test?.maxWorkers).toBe(availableParallelism());
  expect(config.test?.maxWorkers).toBeGreaterThanOrEqual(1);
});

it("in a shard, includes only the shard's files of the package and files JUnit under the shard's name", () => {
  const dir = mkdtempSync(join(tmpdir(), "config-shard-helm-"));
  const file = join(dir, "selection.json");
  writeFileSync(
    file,
    JSON.stringify({ shard: "2/3", files: { "packages/test-support": ["tests/integration/redis.test.ts"] } }),
  );
  vi.stubEnv("INTEGRATION_SHARD", "2/3");
  vi.stubEnv("INTEGRATION_SHARD_FILE", file);
  try {
    const config = integrationConfig({ service: "test-support", root: new URL("../../", import.meta.url) });
    const test = config.test ?? {};
    expect((test.outputFile as { junit: string }).junit).toMatch(
      /\/artifacts\/test-support\/junit-shard-2-of-3-(repo|local|cluster)\.xml$/,
    );
    const integration = (test.projects as { test: { name: string; include: string[] } }[]).find(
      (p) => p.test.name === "integration",
    );
    expect(integration?.test.include).toEqual(["tests/integration/redis.test.ts"]);
    expect(test.passWithNoTests).toBe(true);
  } finally {
    vi.unstubAllEnvs();
  }
});
