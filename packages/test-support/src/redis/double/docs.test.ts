import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FIDELITY_CASES } from "../../../tests/redis-fidelity/cases.js";
import { canonicalMarkdown, redisDoubleDocs } from "./docs.js";

describe("docs/redis-double.md", () => {
  it("is generated from the current double (pnpm --filter @org/test-support docs:redis)", () => {
    const file = new URL("../../../docs/redis-double.md", import.meta.url);
    expect(
      canonicalMarkdown(readFileSync(file, "utf8")),
      "stale: run pnpm --filter @org/test-support docs:redis",
    ).toBe(canonicalMarkdown(redisDoubleDocs(FIDELITY_CASES.length)));
  });
});
