import { describe, expect, it } from "vitest";
import { compareRatios, computeRatios, medianRatios, summarize } from "../bench/suite/stats.js";

describe("bench summaries", () => {
  it("median of odd and even counts, p95 by nearest rank", () => {
    expect(summarize([5, 1, 3])).toEqual({ n: 3, median: 3, p95: 5 });
    expect(summarize([4, 1, 3, 2])).toEqual({ n: 4, median: 2.5, p95: 4 });
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarize(hundred).p95).toBe(95);
    expect(summarize([]).n).toBe(0);
  });

  it("ratios of medians, leaving out one whose metrics were not measured", () => {
    const medians = new Map([
      ["a", 30],
      ["b", 120],
    ]);
    const ratios = computeRatios(
      [
        { id: "a/b", numerator: "a", denominator: "b", why: "" },
        { id: "a/c", numerator: "a", denominator: "c", why: "" },
      ],
      medians,
    );
    expect(ratios).toEqual([{ id: "a/b", value: 0.25 }]);
  });
});

describe("the CI guard", () => {
  const baseline = [
    { id: "import", value: 0.2 },
    { id: "reset", value: 2 },
  ];
  const thresholds = new Map([
    ["import", 1.5],
    ["reset", 1.5],
  ]);

  it("fails a ratio that grew beyond the threshold, and never one that shrank", () => {
    const { verdicts, missing } = compareRatios(
      [
        { id: "import", value: 0.31 },
        { id: "reset", value: 0.5 },
      ],
      baseline,
      thresholds,
    );
    expect(missing).toEqual([]);
    expect(verdicts.map((v) => [v.id, v.regressed])).toEqual([
      ["import", true],
      ["reset", false],
    ]);
    expect(verdicts[0]?.change).toBeCloseTo(1.55);
  });

  it("passes growth within the threshold", () => {
    const { verdicts } = compareRatios(
      [
        { id: "import", value: 0.29 },
        { id: "reset", value: 2.9 },
      ],
      baseline,
      thresholds,
    );
    expect(verdicts.some((v) => v.regressed)).toBe(false);
  });

  it("reports a baseline ratio the run did not measure, and a new one without a verdict", () => {
    const { verdicts, missing } = compareRatios([{ id: "new", value: 1 }], baseline, thresholds);
    expect(missing).toEqual(["import", "reset"]);
    expect(verdicts).toEqual([
      {
        id: "new",
        baseline: undefined,
        current: 1,
        threshold: undefined,
        change: undefined,
        regressed: false,
      },
    ]);
  });

  it("shows a ratio without a threshold and never fails on it", () => {
    const { verdicts, missing } = compareRatios(
      [{ id: "reset", value: 20 }],
      baseline,
      new Map([["import", 1.5]]),
    );
    expect(verdicts[0]?.change).toBe(10);
    expect(verdicts[0]?.regressed).toBe(false);
    expect(missing).toEqual(["import"]);
  });

  it("refuses a threshold that would fail on any noise", () => {
    expect(() => compareRatios([], baseline, new Map([["import", 1]]))).toThrow(/above 1/);
  });

  it("a baseline of several runs takes each ratio's median", () => {
    const runs = [
      [{ id: "a", value: 1 }],
      [
        { id: "a", value: 3 },
        { id: "b", value: 5 },
      ],
      [{ id: "a", value: 2 }],
    ];
    expect(medianRatios(runs)).toEqual([
      { id: "a", value: 2 },
      { id: "b", value: 5 },
    ]);
  });
});
