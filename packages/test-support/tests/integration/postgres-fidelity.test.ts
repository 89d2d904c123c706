import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { describeInModes } from "../../src/vitest/index.js";
import { corpus } from "../fidelity/postgres/corpus.js";
import {
  classify,
  docsFile,
  readRecording,
  renderDocs,
  runCorpus,
  type StepOutcome,
} from "../fidelity/postgres/runner.js";

// The fidelity corpus through the factory. repo: PGlite must answer every case as the recorded server
// did (a silent difference fails; the loud ones below are the only ones allowed), and pg-mem's
// differences must match the generated docs page. local and cluster: the server (the run's embedded
// PostgreSQL, or the live one) must still answer as recorded, so the recording cannot go stale.
const recording = readRecording();
const ids = corpus.map((c) => c.id);

/** Loud differences of the default engine that are known and explained; any other difference fails. */
const KNOWN_LOUD: Record<string, string> = {
  "ddl/foreign-key-restrict":
    "PGlite runs PostgreSQL 18, which reports ON DELETE RESTRICT as 23001 restrict_violation; 15 says 23503",
};

const FIX =
  "If the corpus changed, record it against a server (INTEGRATION_MODE=cluster TEST_SUPPORT_DATABASE_URL=... " +
  "pnpm --filter @org/test-support fidelity:postgres) and regenerate the docs (pnpm --filter @org/test-support fidelity:postgres).";

describe("postgres fidelity recording", () => {
  it("covers every case of the corpus, and nothing else", () => {
    expect(recording, `no recording.json. ${FIX}`).toBeDefined();
    expect(Object.keys(recording?.cases ?? {}).sort(), FIX).toEqual([...ids].sort());
    expect(corpus.length).toBeGreaterThanOrEqual(200);
  });
});

describeInModes(["repo"], "postgres fidelity of the repo-mode engines", () => {
  let pglite: Record<string, StepOutcome[]> = {};
  let pgMem: Record<string, StepOutcome[]> = {};
  beforeAll(async () => {
    pglite = (await runCorpus("pglite")).outcomes;
    pgMem = (await runCorpus("pg-mem")).outcomes;
  }, 600_000);

  it.each(ids)("PGlite answers %s as PostgreSQL", (id) => {
    const expected = recording?.cases[id] ?? [];
    const actual = pglite[id] ?? [];
    const kind = classify(expected, actual);
    if (kind === "same") return;
    const c = corpus.find((x) => x.id === id);
    const refusedForSessions =
      kind === "loud" &&
      c?.sessions === 2 &&
      actual.some((o) => "refused" in o && o.refused === "UNSUPPORTED_BY_DOUBLE");
    if (refusedForSessions || (kind === "loud" && KNOWN_LOUD[id])) return;
    expect(
      actual,
      `PGlite differs ${kind === "silent" ? "SILENTLY" : "loudly"} from PostgreSQL in ${id}`,
    ).toEqual(expected);
  });

  it("docs/postgres-fidelity.md matches what the engines answer now", () => {
    if (!recording) throw new Error(`no recording. ${FIX}`);
    const expected = renderDocs(recording, { "PGlite (default)": pglite, "pg-mem": pgMem });
    let current = "";
    try {
      current = readFileSync(fileURLToPath(docsFile), "utf8");
    } catch {
      // missing counts as stale
    }
    expect(current, `docs/postgres-fidelity.md is stale. ${FIX}`).toBe(expected);
  });
});

describeInModes(["local", "cluster"], "postgres fidelity recording against the server", () => {
  let server: Record<string, StepOutcome[]> = {};
  beforeAll(async () => {
    server = (await runCorpus("pglite")).outcomes;
  }, 600_000);

  it.each(ids)("the server still answers %s as recorded", (id) => {
    expect(server[id], `recording.json is stale for ${id}. ${FIX}`).toEqual(recording?.cases[id]);
  });
});
