import { describe, expect, it } from "vitest";
import { compareChannel, compareTraces } from "./compare.js";
import type { TestTrace, TraceCall } from "./recorder.js";

const call = (name: string, outcome: unknown, group: number, channel = "db"): TraceCall => ({
  channel,
  kind: "postgres",
  call: name,
  request: { sql: name },
  outcome,
  group,
});
const trace = (mode: TestTrace["mode"], calls: TraceCall[], test = "a.test.ts > t"): TestTrace => ({
  test,
  mode,
  state: "pass",
  calls,
});

describe("compareChannel", () => {
  it("agrees on the same calls in the same order", () => {
    expect(
      compareChannel([call("a", 1, 1), call("b", 2, 2)], [call("a", 1, 1), call("b", 2, 2)]),
    ).toBeUndefined();
  });

  it("finds the first call whose answer differs", () => {
    const found = compareChannel([call("a", 1, 1), call("b", 2, 2)], [call("a", 1, 1), call("b", 3, 2)]);
    expect(found?.index).toBe(1);
    expect(found?.from?.call.outcome).toBe(2);
    expect(found?.to?.call.outcome).toBe(3);
  });

  it("flags sequential calls in another order", () => {
    expect(
      compareChannel([call("a", 1, 1), call("b", 2, 2)], [call("b", 2, 1), call("a", 1, 2)])?.index,
    ).toBe(0);
  });

  it("lets calls that were in flight together on either side come in any order", () => {
    // Concurrent on the from side only (one group), sequential on the other.
    const from = [call("x", 0, 1), call("a", 1, 2), call("b", 2, 2), call("y", 0, 3)];
    const to = [call("x", 0, 1), call("b", 2, 2), call("a", 1, 3), call("y", 0, 4)];
    expect(compareChannel(from, to)).toBeUndefined();
    expect(compareChannel(to, from)).toBeUndefined();
  });

  it("still finds a wrong answer inside a concurrent group", () => {
    const from = [call("a", 1, 1), call("b", 2, 1)];
    const to = [call("b", 2, 1), call("a", 9, 1)];
    const found = compareChannel(from, to);
    expect(found?.from?.call.outcome).toBe(1);
    expect(found?.to?.call.outcome).toBe(9);
  });

  it("reports a call one side made and the other did not", () => {
    const found = compareChannel([call("a", 1, 1)], [call("a", 1, 1), call("b", 2, 2)]);
    expect(found).toMatchObject({ index: 1, from: undefined });
    expect(found?.to?.call.call).toBe("b");
  });

  it("folds a polling loop: a run of the same request compares by its last answer", () => {
    const from = [call("poll", "running", 1), call("poll", "running", 2), call("poll", "done", 3)];
    expect(compareChannel(from, [call("poll", "done", 1)])).toBeUndefined();
    expect(compareChannel(from, [call("poll", "running", 1)])?.to?.call.outcome).toBe("running");
  });
});

describe("compareTraces", () => {
  it("compares tests by name and lists tests traced on one side only", () => {
    const result = compareTraces(
      [trace("cluster", [call("a", 1, 1)]), trace("cluster", [], "only-cluster")],
      [trace("repo", [call("a", 2, 1)]), trace("repo", [], "only-repo")],
    );
    expect(result.compared).toBe(1);
    expect(result.divergences).toHaveLength(1);
    expect(result.divergences[0]).toMatchObject({ test: "a.test.ts > t", channel: "db", index: 0 });
    expect(result.onlyFrom).toEqual(["only-cluster"]);
    expect(result.onlyTo).toEqual(["only-repo"]);
  });

  it("does not compare a test that failed on a side", () => {
    const failed = { ...trace("repo", [call("a", 2, 1)]), state: "fail" };
    const result = compareTraces([trace("cluster", [call("a", 1, 1)])], [failed]);
    expect(result.compared).toBe(0);
    expect(result.notCompared[0]?.reason).toContain("repo: fail");
  });

  it("compares a service's parts only where both sides saw them, but every top-level dependency", () => {
    const repo = trace("repo", [call("rpc", "ok", 1, "app"), call("q", 1, 1, "app>postgres")]);
    const cluster = trace("cluster", [call("rpc", "ok", 1, "app")]);
    const result = compareTraces([cluster], [repo]);
    expect(result.divergences).toEqual([]);
    expect(result.unobserved).toEqual([{ channel: "app>postgres", side: "to" }]);
    const missing = compareTraces([cluster], [trace("repo", [])]);
    expect(missing.divergences[0]).toMatchObject({ channel: "app", to: undefined });
  });
});
