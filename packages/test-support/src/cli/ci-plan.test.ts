import { describe, expect, it } from "vitest";
import { matrixFromSuites, shardsOf } from "./ci-plan.js";

describe("matrixFromSuites", () => {
  it("makes a leg of every package with suites, test-support's own included, named by folder, in a stable order", () => {
    const matrix = matrixFromSuites([
      { name: "@org/threads", path: "services/threads", cached: false },
      { name: "@org/test-support", path: "packages/test-support", cached: true },
      { name: "@org/platform", path: "services/platform", cached: false },
    ]);
    expect(matrix).toEqual({
      include: [
        { package: "@org/platform", service: "platform", shard: "", leg: "platform" },
        { package: "@org/test-support", service: "test-support", shard: "", leg: "test-support" },
        { package: "@org/threads", service: "threads", shard: "", leg: "threads" },
      ],
    });
  });

  it("gives an empty matrix when a change touches no package with suites", () => {
    expect(matrixFromSuites([])).toEqual({ include: [] });
  });

  it("makes a leg per shard of a package that sets integration.shards", () => {
    const matrix = matrixFromSuites(
      [
        { name: "@org/threads", path: "services/threads", cached: false },
        { name: "@org/test-support", path: "packages/test-support", cached: false },
      ],
      (suite) => (suite.name === "@org/test-support" ? 2 : 1),
    );
    expect(matrix.include).toEqual([
      {
        package: "@org/test-support",
        service: "test-support",
        shard: "1/2",
        leg: "test-support-shard-1-of-2",
      },
      {
        package: "@org/test-support",
        service: "test-support",
        shard: "2/2",
        leg: "test-support-shard-2-of-2",
      },
      { package: "@org/threads", service: "threads", shard: "", leg: "threads" },
    ]);
  });

  it("reads integration.shards, 1 when unset, and refuses anything but 1 to 64", () => {
    expect(shardsOf({ name: "@org/x" })).toBe(1);
    expect(shardsOf({ name: "@org/x", integration: { shards: 3 } })).toBe(3);
    for (const bad of [0, 65, 1.5, "2", null])
      expect(() => shardsOf({ name: "@org/x", integration: { shards: bad } })).toThrow(
        /@org\/x: integration.shards in its package.json is .*; write a whole number from 1 to 64/,
      );
  });
});
