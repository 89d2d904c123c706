// Builds the PGlite snapshots of the given migration folders (and initdb's, which they share) into the
// cache, one after the other, so a test run on a fresh machine finds them ready:
//   pnpm --filter @org/test-support pglite:warm <migrations folder>...
import { resolve } from "node:path";
import { readMigrations } from "./migrations.js";
import { pgliteSnapshot } from "./pglite-engine.js";

const folders = process.argv.slice(2);
if (folders.length === 0) {
  console.error("usage: pglite:warm <migrations folder>... (e.g. ../../services/platform/migrations)");
  process.exit(2);
}
for (const folder of folders) {
  const started = performance.now();
  const snapshot = await pgliteSnapshot(await readMigrations(resolve(folder)), process.env);
  console.log(
    `${folder}: ${snapshot.source} in ${Math.round(performance.now() - started)} ms (${snapshot.file}, ${(snapshot.data.size / 1048576).toFixed(1)} MiB)`,
  );
}
