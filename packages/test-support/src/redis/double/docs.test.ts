import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FIDELITY_CASES } from "../../../tests/redis-fidelity/cases.js";
import { redisDoubleDocs } from "./docs.js";

/** Markdown with table cells trimmed, so the formatter's column padding does not count as a change. */
function canonical(markdown: string): string {
  return markdown
    .split("\n")
    .map((line) =>
      line.startsWith("|")
        ? line
            .split("|")
            .map((cell) => (/^\s*-+\s*$/.test(cell) ? "---" : cell.trim()))
            .join("|")
        : line,
    )
    .join("\n")
    .trim();
}

describe("docs/redis-double.md", () => {
  it("is generated from the current double (pnpm --filter @org/test-support docs:redis)", () => {
    const file = new URL("../../../docs/redis-double.md", import.meta.url);
    expect(
      canonical(readFileSync(file, "utf8")),
      "stale: run pnpm --filter @org/test-support docs:redis",
    ).toBe(canonical(redisDoubleDocs(FIDELITY_CASES.length)));
  });
});
