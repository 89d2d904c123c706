import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { countJUnit } from "./junit-summary.js";
import { integrationFiles, planShards, selectionOf, writeSelection } from "./shard.js";

// A real Vitest run of a small package (tests/fixtures/shard-package, through the real integration config)
// unsharded and in two shards: the shards' JUnit test cases together are exactly the unsharded run's.
const workspace = fileURLToPath(new URL("../../../../", import.meta.url));
const packagePath = "packages/test-support/tests/fixtures/shard-package";
const vitest = fileURLToPath(new URL("../../node_modules/.bin/vitest", import.meta.url));

/** Runs the fixture's integration project with `env`, JUnit to `junit`; returns the "classname › name" of every case. */
function runFixture(
  env: Record<string, string>,
  junit: string,
): { status: number | null; cases: string[]; xml: string } {
  const result = spawnSync(
    vitest,
    ["run", "--project", "integration", "--reporter=junit", `--outputFile.junit=${junit}`],
    {
      cwd: join(workspace, packagePath),
      env: {
        ...process.env,
        INTEGRATION_MODE: "repo",
        INTEGRATION_SHARD: "",
        INTEGRATION_SHARD_FILE: "",
        ...env,
      },
      encoding: "utf8",
    },
  );
  const xml = existsSync(junit) ? readFileSync(junit, "utf8") : "";
  const cases = [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"/g)].map(
    (m) => `${m[1]} › ${m[2]}`,
  );
  return { status: result.status, cases, xml };
}

describe("a sharded run", { timeout: 120_000 }, () => {
  it("runs, in its shards together, exactly the test cases of the unsharded run", () => {
    const dir = mkdtempSync(join(tmpdir(), "shard-run-helm-"));
    const whole = runFixture({}, join(dir, "whole.xml"));
    expect(whole.status).toBe(0);
    expect(whole.cases).toHaveLength(15);
    // Each fixture file skips one test on purpose: a shard must report skips as the whole run does.
    expect(countJUnit(whole.xml)).toEqual({ passed: 10, failed: 0, skipped: 5 });

    const files = integrationFiles(workspace, packagePath);
    const planned = planShards(files, 2);
    const parts = [1, 2].map((index) => {
      const selection = selectionOf({ index, count: 2 }, [packagePath], planned);
      const file = writeSelection(join(dir, "selections"), selection);
      return runFixture(
        { INTEGRATION_SHARD: `${index}/2`, INTEGRATION_SHARD_FILE: file },
        join(dir, `part-${index}.xml`),
      );
    });
    for (const part of parts) expect(part.status).toBe(0);
    const [one, two] = parts as [(typeof parts)[0], (typeof parts)[0]];
    expect(one.cases.length).toBeGreaterThan(0);
    expect(two.cases.length).toBeGreaterThan(0);
    expect(one.cases.filter((c) => two.cases.includes(c))).toEqual([]);
    expect([...one.cases, ...two.cases].sort()).toEqual([...whole.cases].sort());
    const sum = [countJUnit(one.xml), countJUnit(two.xml)].reduce((a, b) => ({
      passed: a.passed + b.passed,
      failed: a.failed + b.failed,
      skipped: a.skipped + b.skipped,
    }));
    expect(sum).toEqual(countJUnit(whole.xml));
  });

  it("passes with no test when its package has no file in the shard", () => {
    const dir = mkdtempSync(join(tmpdir(), "shard-run-helm-"));
    const file = writeSelection(dir, { shard: "3/3", files: { [packagePath]: [] } });
    const empty = runFixture(
      { INTEGRATION_SHARD: "3/3", INTEGRATION_SHARD_FILE: file },
      join(dir, "empty.xml"),
    );
    expect(empty.status).toBe(0);
    expect(empty.cases).toEqual([]);
  });
});
