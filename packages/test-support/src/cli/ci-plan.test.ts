import { describe, expect, it } from "vitest";
import { matrixFromSuites } from "./ci-plan.js";

describe("matrixFromSuites", () => {
  it("makes a leg of every package with suites, test-support's own included, named by folder, in a stable order", () => {
    const matrix = matrixFromSuites([
      { name: "@org/threads", path: "services/threads", cached: false },
      { name: "@org/test-support", path: "packages/test-support", cached: true },
      { name: "@org/platform", path: "services/platform", cached: false },
    ]);
    expect(matrix).toEqual({
      include: [
        { package: "@org/platform", service: "platform" },
        { package: "@org/test-support", service: "test-support" },
        { package: "@org/threads", service: "threads" },
      ],
    });
  });

  it("gives an empty matrix when a change touches no package with suites", () => {
    expect(matrixFromSuites([])).toEqual({ include: [] });
  });
});
