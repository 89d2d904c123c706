// pnpm docs:matrix rewrites the generated matrix in tests/integration/README.md (between its markers; the
// rest of the file is written by hand); --check fails (exit 1) when it is stale.
import { join } from "node:path";
import { loadDeclarations } from "./declarations.js";
import { readGenerated, writeOrCheck } from "./generated-file.js";
import { renderMatrix, spliceMatrix } from "./matrix.js";

const root = process.cwd();
const file = join(root, "tests/integration/README.md");
const current = readGenerated(file);
const expected = spliceMatrix(current, renderMatrix(await loadDeclarations(root)));
writeOrCheck(file, current, expected, "pnpm docs:matrix");
