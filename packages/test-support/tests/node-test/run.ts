// Runs the node:test suites with a spec report on stdout and JUnit at artifacts/test-support/junit-node-<mode>.xml.
import { createWriteStream, mkdirSync, readdirSync } from "node:fs";
import { run } from "node:test";
import { junit, spec } from "node:test/reporters";
import { fileURLToPath } from "node:url";
import { selectedFiles, shardFromEnv, shardLabel } from "../../src/cli/shard.js";
import { integrationModeFrom } from "../../src/mode.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const artifacts = fileURLToPath(new URL("../../../../artifacts/test-support/", import.meta.url));
mkdirSync(artifacts, { recursive: true });
// pnpm test:integration --shard i/n: only this shard's files (an empty shard runs nothing and writes no JUnit).
const shard = shardFromEnv();
const selected = selectedFiles("packages/test-support");
const files = readdirSync(here)
  .filter((name) => name.endsWith(".test.ts"))
  .filter((name) => !selected || selected.includes(`tests/node-test/${name}`))
  .map((name) => `${here}${name}`);
if (selected && files.length === 0) {
  console.log(`node:test: no file of this package in shard ${process.env.INTEGRATION_SHARD}`);
  process.exit(0);
}

let failed = false;
// --smoke runs only tests tagged @smoke, as the Vitest suites do.
const smoke = process.env.INTEGRATION_SMOKE === "1";
const stream = run({ files, concurrency: 1, ...(smoke ? { testNamePatterns: ["@smoke"] } : {}) });
stream.on("test:fail", () => {
  failed = true;
});
stream.compose(new spec()).pipe(process.stdout);
stream
  .compose(junit)
  .pipe(
    createWriteStream(
      `${artifacts}junit-node-${shard ? `${shardLabel(shard)}-` : ""}${integrationModeFrom()}.xml`,
    ),
  );
stream.on("end", () => {
  process.exitCode = failed ? 1 : 0;
});
