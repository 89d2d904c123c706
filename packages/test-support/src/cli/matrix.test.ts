import { describe, expect, it } from "vitest";
import { fakeDependency } from "../../tests/helpers.js";
import { declareService } from "../declaration.js";
import { MATRIX_END, MATRIX_START, renderMatrix, spliceMatrix } from "./matrix.js";

describe("renderMatrix", () => {
  it("lists each dependency with what it is in every mode and its cluster variables", () => {
    const table = renderMatrix([
      declareService("svc", {
        cache: { ...fakeDependency({ variables: ["REDIS_URL"] }).dependency, kind: "redis" },
      }),
    ]);
    expect(table).toContain(
      "| svc | cache | redis | ioredis-mock behind the fidelity layer | redis-server | Redis (ioredis) | `REDIS_URL` |",
    );
  });
});

describe("spliceMatrix", () => {
  it("replaces only what lies between the markers, keeping the hand-written text around them", () => {
    const document = `# Title\n\nIntro.\n\n${MATRIX_START}\n| old |\n${MATRIX_END}\n\n## Examples\n\nkept\n`;
    expect(spliceMatrix(document, "| new |\n")).toBe(
      `# Title\n\nIntro.\n\n${MATRIX_START}\n| new |\n${MATRIX_END}\n\n## Examples\n\nkept\n`,
    );
  });

  it("is stable: splicing the same matrix twice changes nothing", () => {
    const once = spliceMatrix(`a\n${MATRIX_START}\nx\n${MATRIX_END}\nb\n`, "| t |\n");
    expect(spliceMatrix(once, "| t |\n")).toBe(once);
  });

  it("starts a document that has no markers", () => {
    expect(spliceMatrix("", "| t |\n")).toBe(
      `# Integration suites\n\n${MATRIX_START}\n| t |\n${MATRIX_END}\n`,
    );
  });
});
