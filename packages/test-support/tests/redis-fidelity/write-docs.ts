// Writes docs/redis-double.md (or, with --check, fails when it is stale).
//   pnpm --filter @org/test-support docs:redis [--check]
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { canonicalMarkdown, redisDoubleDocs } from "../../src/redis/double/docs.js";
import { FIDELITY_CASES } from "./cases.js";

export const DOCS_FILE = fileURLToPath(new URL("../../docs/redis-double.md", import.meta.url));

const text = redisDoubleDocs(FIDELITY_CASES.length);
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(DOCS_FILE, "utf8");
  } catch {}
  if (canonicalMarkdown(current) !== canonicalMarkdown(text)) {
    console.error(`${DOCS_FILE} is stale: run pnpm --filter @org/test-support docs:redis`);
    process.exit(1);
  }
  console.log(`${DOCS_FILE} is fresh`);
} else {
  writeFileSync(DOCS_FILE, text);
  // Biome formats markdown (it pads table columns); the check above ignores that padding.
  execFileSync("pnpm", ["exec", "biome", "format", "--write", DOCS_FILE], { stdio: "inherit" });
  console.log(`wrote ${DOCS_FILE}`);
}
