// pnpm docs:matrix rewrites the generated matrix in tests/integration/README.md (between its markers; the
// rest of the file is written by hand); --check fails (exit 1) when it is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadDeclarations } from "./declarations.js";
import { renderMatrix, spliceMatrix } from "./matrix.js";

const root = process.cwd();
const file = join(root, "tests/integration/README.md");
let current = "";
try {
  current = readFileSync(file, "utf8");
} catch {
  // missing counts as stale
}
const expected = spliceMatrix(current, renderMatrix(await loadDeclarations(root)));
if (process.argv.includes("--check")) {
  if (current !== expected) {
    console.error(
      `${file} is stale: the services' dependency declarations changed. Run pnpm docs:matrix and commit it.`,
    );
    process.exit(1);
  }
  console.log(`${file} is up to date`);
} else {
  writeFileSync(file, expected);
  console.log(`wrote ${file}`);
}
