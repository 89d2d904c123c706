import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runDrift, updateRecordings } from "./drift.js";
import type { TestTrace, TraceCall } from "./recorder.js";

let root: string;
let lines: string[];
const log = (line: string) => lines.push(line);
const artifacts = () => join(root, "artifacts");

const call = (outcome: unknown, name = "getRun"): TraceCall => ({
  channel: "app",
  kind: "grpc:svc",
  call: name,
  request: { id: "<uuid:1>" },
  outcome,
  group: 1,
});
const trace = (
  mode: TestTrace["mode"],
  calls: TraceCall[],
  test = "tests/integration/a.test.ts > t",
): TestTrace => ({
  test,
  mode,
  state: "pass",
  calls,
});
function writeTraces(mode: string, traces: TestTrace[]) {
  mkdirSync(join(artifacts(), "svc"), { recursive: true });
  writeFileSync(
    join(artifacts(), "svc", `trace-${mode}.jsonl`),
    traces.map((t) => `${JSON.stringify(t)}\n`).join(""),
  );
}
const drift = (from: "cluster" | "recording", to: "repo" | "cluster" | "recording") =>
  runDrift({ root, artifactsDir: artifacts(), from, to, filter: [], log });

beforeEach(() => {
  lines = [];
  root = mkdtempSync(join(tmpdir(), "drift-cli-"));
  mkdirSync(join(root, "services", "svc", "tests", "integration"), { recursive: true });
  mkdirSync(join(root, "services", "svc", "migrations"), { recursive: true });
  writeFileSync(join(root, "services", "svc", "package.json"), JSON.stringify({ name: "@org/svc" }));
  writeFileSync(join(root, "services", "svc", "migrations", "001.sql"), "create table t (id int);");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("pnpm test:integration drift", () => {
  it("passes when every test answered the same, and writes markdown and JSON", () => {
    writeTraces("cluster", [trace("cluster", [call("ok")])]);
    writeTraces("repo", [trace("repo", [call("ok")])]);
    expect(drift("cluster", "repo").ok).toBe(true);
    expect(readFileSync(join(artifacts(), "drift", "cluster-vs-repo.md"), "utf8")).toContain(
      "No unexplained difference",
    );
    expect(JSON.parse(readFileSync(join(artifacts(), "drift", "cluster-vs-repo.json"), "utf8")).ok).toBe(
      true,
    );
  });

  it("fails on a difference and prints the first divergent call with both answers", () => {
    writeTraces("cluster", [trace("cluster", [call({ state: "DONE" })])]);
    writeTraces("repo", [trace("repo", [call({ state: "FAILED" })])]);
    const report = drift("cluster", "repo");
    expect(report.ok).toBe(false);
    expect(report.packages[0]?.status).toBe("drift");
    const printed = lines.join("\n");
    expect(printed).toContain("first divergent call: app (grpc:svc) #1 getRun");
    expect(printed).toContain('cluster: {"state":"DONE"}');
    expect(printed).toContain('repo: {"state":"FAILED"}');
  });

  it("lists an accepted difference apart, and reports one that no longer occurs as stale", () => {
    writeFileSync(
      join(root, "services", "svc", "tests", "integration", "drift-accepted.yaml"),
      '- test: "tests/integration/a.test.ts > *"\n  call: getRun\n  reason: the stub finishes a run before the first poll\n',
    );
    writeTraces("cluster", [trace("cluster", [call("running")])]);
    writeTraces("repo", [trace("repo", [call("done")])]);
    const accepted = drift("cluster", "repo");
    expect(accepted.ok).toBe(true);
    expect(accepted.packages[0]?.accepted[0]?.reason).toContain("first poll");
    writeTraces("repo", [trace("repo", [call("running")])]);
    const stale = drift("cluster", "repo");
    expect(stale.ok).toBe(false);
    expect(stale.packages[0]?.status).toBe("stale");
    expect(lines.join("\n")).toContain("stale accepted difference");
  });

  it("applies an unspecified-order entry between two real servers too, and never calls it stale", () => {
    writeFileSync(
      join(root, "services", "svc", "tests", "integration", "drift-accepted.yaml"),
      '- test: "tests/integration/a.test.ts > *"\n  call: getRun\n  sometimes: true\n  reason: the server lists runs in no specified order\n',
    );
    writeTraces("cluster", [trace("cluster", [call(["a", "b"])])]);
    writeTraces("repo", [trace("repo", [call(["a", "b"])])]);
    expect(updateRecordings({ root, artifactsDir: artifacts(), filter: [], log })).toBe(true);
    // A later cluster run that lists them the other way round: explained, not drift.
    writeTraces("cluster", [trace("cluster", [call(["b", "a"])])]);
    const later = drift("cluster", "recording");
    expect(later.ok).toBe(true);
    expect(later.packages[0]?.accepted).toHaveLength(1);
    // Where the order happens to agree, the entry is not stale.
    writeTraces("repo", [trace("repo", [call(["b", "a"])])]);
    expect(drift("cluster", "repo").ok).toBe(true);
    // Anything else still drifts.
    writeTraces("repo", [trace("repo", [call(["a"])], "tests/integration/b.test.ts > t")]);
    writeTraces("cluster", [trace("cluster", [call(["b"])], "tests/integration/b.test.ts > t")]);
    expect(drift("cluster", "repo").ok).toBe(false);
  });

  it("compares the repo lane with the recording, and refuses a recording made from other migrations", () => {
    writeTraces("cluster", [trace("cluster", [call("ok")])]);
    writeTraces("repo", [trace("repo", [call("ok")])]);
    expect(updateRecordings({ root, artifactsDir: artifacts(), filter: [], log })).toBe(true);
    expect(drift("recording", "repo").ok).toBe(true);
    writeFileSync(join(root, "services", "svc", "migrations", "002.sql"), "alter table t add column x int;");
    const stale = drift("recording", "repo");
    expect(stale.ok).toBe(false);
    expect(stale.packages[0]?.staleRecording).toEqual(["services/svc/migrations/002.sql (added)"]);
  });

  it("does not record a cluster run in which a test failed", () => {
    writeTraces("cluster", [{ ...trace("cluster", [call("ok")]), state: "fail" }]);
    expect(updateRecordings({ root, artifactsDir: artifacts(), filter: [], log })).toBe(false);
    expect(lines.join("\n")).toContain("did not pass");
  });
});
