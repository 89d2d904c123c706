import { readFileSync } from "node:fs";
import { describe, expect } from "vitest";
import { createStoreClient, openfga } from "../../src/index.js";
import { integrationTest } from "../../src/vitest/index.js";

// The real server's verdict on models of every kind it refuses (and some it takes), recorded from OpenFGA
// v1.18.1 in tests/fixtures/openfga-model-verdicts.json. Runs in every mode: in repo/local the in-memory
// OpenFGA must reach each verdict; in cluster the server must still give it, or the recording is stale.
// Messages are compared where the double reproduces them exactly ("doubleMessage": "exact"); the others
// (a CEL syntax error's wording, one caret position) only by code.
interface Verdict {
  name: string;
  model: Record<string, unknown>;
  verdict: { status: number; code?: string; message?: string };
  doubleMessage: "exact" | "approximate";
}
const { cases } = JSON.parse(
  readFileSync(new URL("../fixtures/openfga-model-verdicts.json", import.meta.url), "utf8"),
) as { cases: Verdict[] };

const test = integrationTest({
  service: "test-support",
  dependencies: { authz: openfga({ model: new URL("../fixtures/authz.fga", import.meta.url) }) },
});

describe("model verdicts match OpenFGA's", () => {
  test("every recorded case", { timeout: 120_000 }, async ({ clients, environment }) => {
    const store = await createStoreClient(clients.authz, "model-verdicts");
    const differences: string[] = [];
    try {
      for (const c of cases) {
        const answer = await store.writeAuthorizationModel(c.model as never).then(
          () => ({ status: 201 }) as Verdict["verdict"],
          (error: { statusCode?: number; apiErrorCode?: string; apiErrorMessage?: string }) => ({
            status: error.statusCode ?? 0,
            code: error.apiErrorCode,
            message: error.apiErrorMessage,
          }),
        );
        const exact = environment.mode === "cluster" || c.doubleMessage === "exact";
        const expected = exact ? c.verdict : { status: c.verdict.status, code: c.verdict.code };
        const actual = exact ? answer : { status: answer.status, code: answer.code };
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          differences.push(`${c.name}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
        }
      }
    } finally {
      await store.deleteStore();
    }
    expect(differences).toEqual([]);
    expect(cases.length).toBeGreaterThan(80);
  });
});
