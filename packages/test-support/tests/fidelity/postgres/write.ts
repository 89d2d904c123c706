// pnpm --filter @org/test-support fidelity:postgres [--check]
//   INTEGRATION_MODE=cluster (with TEST_SUPPORT_DATABASE_URL): records the server's outcomes in recording.json;
//   otherwise (repo): runs PGlite and pg-mem and writes docs/postgres-fidelity.md.
// --check writes nothing and exits 1 when the file would change.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { integrationModeFrom } from "../../../src/mode.js";
import { docsFile, readRecording, recordingFile, renderDocs, runCorpus } from "./runner.js";

const check = process.argv.includes("--check");
const mode = integrationModeFrom();

function finish(file: URL, text: string, how: string): void {
  const path = fileURLToPath(file);
  let current = "";
  try {
    current = readFileSync(path, "utf8");
  } catch {
    // missing counts as stale
  }
  if (check) {
    if (current !== text) {
      console.error(`${path} is stale: ${how}`);
      process.exit(1);
    }
    console.log(`${path} is up to date`);
  } else {
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}

if (mode === "cluster") {
  const { server, outcomes } = await runCorpus("pglite");
  const text = `${JSON.stringify({ server, cases: outcomes }, null, 1)}\n`;
  finish(
    recordingFile,
    text,
    "the server answers the corpus differently; rerun without --check and commit it.",
  );
} else {
  const recording = readRecording();
  if (!recording) {
    console.error(
      "no recording.json: run this with INTEGRATION_MODE=cluster and TEST_SUPPORT_DATABASE_URL first.",
    );
    process.exit(1);
  }
  const pglite = await runCorpus("pglite");
  const pgMem = await runCorpus("pg-mem");
  finish(
    docsFile,
    renderDocs(recording, { "PGlite (default)": pglite.outcomes, "pg-mem": pgMem.outcomes }),
    "the engines or the corpus changed; run pnpm --filter @org/test-support fidelity:postgres and commit it.",
  );
}
