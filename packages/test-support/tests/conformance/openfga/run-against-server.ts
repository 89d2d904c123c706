// Runs OpenFGA's conformance suites against a REAL server, to prove the runner itself (and, by
// extension, the suites' expectations) before we trust it to judge the in-memory double.
//
//   bash scripts/openfga-server.sh start
//   FGA_API_URL=http://127.0.0.1:18080 pnpm exec tsx tests/conformance/openfga/run-against-server.ts \
//     [--filter <regexp on test names>] [--concurrency <n>] [--max-failures <n>]
//
// Prints per-file pass counts and the failures; exits 1 on any failure, 2 on bad usage.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { OpenFgaClient } from "@openfga/sdk";
import { formatReport, runConformance } from "./runner.js";

const dataFiles = ["consolidated_1_1_tests.yaml", "abac_tests.yaml"].map((name) =>
  fileURLToPath(new URL(`./data/${name}`, import.meta.url)),
);

/** OpenFGA store names must be 3–64 characters; test names are neither guaranteed short nor long enough. */
function storeNameFor(testName: string): string {
  return `conformance ${testName}`.slice(0, 64);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      filter: { type: "string" },
      concurrency: { type: "string", default: "8" },
      "max-failures": { type: "string", default: "50" },
    },
  });
  const apiUrl = process.env.FGA_API_URL;
  if (!apiUrl) {
    console.error("FGA_API_URL is not set; start a server with `bash scripts/openfga-server.sh start`.");
    return 2;
  }
  const concurrency = Number(values.concurrency);
  const maxFailures = Number(values["max-failures"]);
  if (
    !Number.isInteger(concurrency) ||
    concurrency < 1 ||
    !Number.isInteger(maxFailures) ||
    maxFailures < 0
  ) {
    console.error("--concurrency must be a positive integer and --max-failures a non-negative integer.");
    return 2;
  }
  const pattern = values.filter === undefined ? undefined : new RegExp(values.filter);

  // Retries would hide a flaky answer as a slow one; the server is local, so fail on the first error.
  const retryParams = { maxRetry: 0 };
  const admin = new OpenFgaClient({ apiUrl, retryParams });
  const started = performance.now();
  const results = await runConformance({
    files: dataFiles,
    concurrency,
    ...(pattern ? { filter: (name: string) => pattern.test(name) } : {}),
    async newStore(testName) {
      const store = await admin.createStore({ name: storeNameFor(testName) });
      return new OpenFgaClient({ apiUrl, storeId: store.id, retryParams });
    },
    async deleteStore(client) {
      await client.deleteStore();
    },
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);

  console.log(`OpenFGA conformance against ${apiUrl} (${seconds}s)`);
  console.log(formatReport(results, { maxFailures }));
  return results.some((result) => result.failures.length > 0) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
