import { describe, expect, it } from "vitest";
import { matrixFromTurboLs } from "./ci-plan.js";

const ls = (items: { name: string; path: string }[]) =>
  JSON.stringify({ packageManager: "pnpm9", packages: { count: items.length, items } });

describe("matrixFromTurboLs", () => {
  it("keeps only service packages, named by their folder, in a stable order", () => {
    const matrix = matrixFromTurboLs(
      ls([
        { name: "@org/threads", path: "services/threads" },
        { name: "@org/test-support", path: "packages/test-support" },
        { name: "@org/platform", path: "services/platform" },
      ]),
    );
    expect(matrix).toEqual({
      include: [
        { package: "@org/platform", service: "platform" },
        { package: "@org/threads", service: "threads" },
      ],
    });
  });

  it("gives an empty matrix when a change touches no service", () => {
    expect(matrixFromTurboLs(ls([{ name: "@org/test-support", path: "packages/test-support" }]))).toEqual({
      include: [],
    });
    expect(matrixFromTurboLs(ls([]))).toEqual({ include: [] });
  });

  it("says when turbo did not answer JSON", () => {
    expect(() => matrixFromTurboLs("x  WARNING  no git")).toThrow(/turbo ls did not answer JSON/);
  });
});
