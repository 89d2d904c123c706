import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import type { TelemetryEvent } from "../telemetry.js";
import { parseEvents, percentiles, summarizeRun, writeServiceSummary } from "./run-summary.js";

const event = (fields: Partial<TelemetryEvent>): TelemetryEvent => ({
  event: "dependency.reset",
  time: "2026-01-01T00:00:00.000Z",
  service: "threads",
  mode: "cluster",
  runId: "r1",
  ...fields,
});

const junit = `<?xml version="1.0"?><testsuites time="2.5"><testsuite name="t.test.ts">
  <testcase classname="t" name="a"/><testcase classname="t" name="b"><failure/></testcase>
  <testcase classname="t" name="Timers [not run in repo mode: needs local or cluster] &gt; fires"><skipped/></testcase>
</testsuite></testsuites>`;

describe("percentiles", () => {
  it("takes the nearest rank, and is null without samples", () => {
    expect(percentiles([])).toBeNull();
    expect(percentiles([5])).toEqual({ count: 1, p50: 5, p90: 5, p99: 5, max: 5 });
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(hundred)).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, max: 100 });
    expect(percentiles([1.23456, 2])?.p50).toBe(1.235);
  });
});

describe("parseEvents", () => {
  it("skips blank and cut-short lines", () => {
    const text = `${JSON.stringify(event({}))}\n\n{"event":"dependency.res`;
    expect(parseEvents(text)).toHaveLength(1);
  });
});

describe("summarizeRun", () => {
  it("says what was real per dependency, the test counts and the reset percentiles of this mode only", () => {
    const events = [
      event({
        event: "dependency.selected",
        dependency: "db",
        kind: "postgres",
        implementation: "pg",
        target: "postgres://x/it_test (schema a)",
      }),
      event({
        event: "dependency.selected",
        dependency: "db",
        kind: "postgres",
        implementation: "pg",
        target: "postgres://x/it_test (schema b)",
      }),
      event({ dependency: "db", durationMs: 10 }),
      event({ dependency: "db", durationMs: 30 }),
      event({ dependency: "db", durationMs: 20, error: "boom" }),
      event({ event: "dependency.closed", dependency: "db", durationMs: 4 }),
      event({ event: "environment.failed", error: "db: CONNECT_TIMEOUT" }),
      // Another mode's events in the same file are not this run's.
      event({ mode: "repo", dependency: "db", durationMs: 999 }),
    ];
    const summary = summarizeRun({
      mode: "cluster",
      junit: [junit],
      events,
      replayed: false,
      finishedAt: "2026-01-01T00:01:00.000Z",
    });
    expect(summary).toMatchObject({
      mode: "cluster",
      replayed: false,
      tests: { passed: 1, failed: 1, skipped: 1 },
      seconds: 2.5,
      notRun: ["Timers [not run in repo mode: needs local or cluster]"],
      failedEnvironments: ["db: CONNECT_TIMEOUT"],
      reset: { count: 3, p50: 20, p90: 30, p99: 30, max: 30 },
    });
    expect(summary.dependencies.db).toEqual({
      kind: "postgres",
      implementation: "pg",
      target: "postgres://x/it_test (schema a)",
      real: true,
      environments: 2,
      reset: { count: 3, p50: 20, p90: 30, p99: 30, max: 30 },
      close: { count: 1, p50: 4, p90: 4, p99: 4, max: 4 },
      errors: ["dependency.reset: boom"],
    });
  });

  it("marks in-process doubles as not real outside cluster mode, and a local engine as real", () => {
    const summary = summarizeRun({
      mode: "local",
      junit: [],
      events: [
        event({
          mode: "local",
          event: "dependency.selected",
          dependency: "db",
          implementation: "pg-mem",
          target: "in-process",
        }),
        event({
          mode: "local",
          event: "dependency.selected",
          dependency: "temporal",
          implementation: "dev-server",
          target: "127.0.0.1:7233 (namespace default)",
        }),
      ],
      replayed: true,
      finishedAt: "t",
    });
    expect(summary.dependencies.db?.real).toBe(false);
    expect(summary.dependencies.temporal?.real).toBe(true);
    expect(summary.replayed).toBe(true);
    expect(summary.reset).toBeNull();
  });
});

describe("writeServiceSummary", () => {
  it("keeps the latest run of every mode in one file per service", () => {
    const dir = mkdtempSync(join(tmpdir(), "summary-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "threads", "summary.json");
    const run = (mode: "repo" | "cluster", passed: number) => ({
      ...summarizeRun({ mode, junit: [], events: [], replayed: false, finishedAt: "t" }),
      tests: { passed, failed: 0, skipped: 0 },
    });
    writeServiceSummary(file, "threads", run("repo", 1));
    writeServiceSummary(file, "threads", run("cluster", 2));
    writeServiceSummary(file, "threads", run("repo", 3));
    const written = JSON.parse(readFileSync(file, "utf8"));
    expect(written.service).toBe("threads");
    expect(Object.keys(written.modes).sort()).toEqual(["cluster", "repo"]);
    expect(written.modes.repo.tests.passed).toBe(3);
    expect(written.modes.cluster.tests.passed).toBe(2);
    // A damaged file is replaced, not merged.
    writeFileSync(file, "{not json");
    expect(writeServiceSummary(file, "threads", run("repo", 4)).modes).toEqual({ repo: run("repo", 4) });
  });
});
