import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect } from "vitest";
import { createStoreClient, openfga, resolveArtifactsDir } from "../../src/index.js";
import { integrationTest } from "../../src/vitest/index.js";
import { formatReport, runConformance } from "../conformance/openfga/runner.js";

// OpenFGA's own conformance suites, through the real SDK: against the in-memory OpenFGA in repo/local and
// a real server in cluster. Every check, list-objects and list-users assertion must pass in both.
const data = (name: string) => fileURLToPath(new URL(`../conformance/openfga/data/${name}`, import.meta.url));
const test = integrationTest({
  service: "test-support",
  dependencies: { authz: openfga({ model: new URL("../fixtures/authz.fga", import.meta.url) }) },
});

describe("OpenFGA conformance", () => {
  test.for(["consolidated_1_1_tests.yaml", "abac_tests.yaml"])(
    "%s: every assertion passes",
    { timeout: 300_000 },
    async (file, { clients, environment }) => {
      const [result] = await runConformance({
        files: [data(file)],
        newStore: (name) => createStoreClient(clients.authz, name.slice(0, 64)),
        deleteStore: async (client) => {
          await client.deleteStore();
        },
        concurrency: 4,
      });
      const report = formatReport(result ? [result] : []);
      const dir = `${resolveArtifactsDir(process.env)}/test-support`;
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        `${dir}/openfga-conformance-${file.replace(/\.yaml$/, "")}-${environment.mode}.txt`,
        `${report}\n`,
      );
      console.log(`[${environment.mode}] ${report}`);
      expect(result?.failures ?? ["no result"]).toEqual([]);
    },
  );
});
