import { mkdirSync, writeFileSync } from "node:fs";
import { afterAll, expect } from "vitest";
import { openfga, resolveArtifactsDir } from "../../src/index.js";
import { InMemoryOpenFga } from "../../src/openfga/memory/server.js";
import { describeInModes, integrationTest } from "../../src/vitest/index.js";
import { type FgaApi, httpApi, runSeed, type SeedResult, summarize } from "../openfga-differential.js";

// Random models, tuples and queries (tests/openfga-random.ts), answered by the in-memory OpenFGA and by a
// real server, must agree on every answer: values, and error codes. Only meaningful against a real server,
// so it runs in cluster mode and says so elsewhere. DIFF_SEEDS sets how many seeds (CI runs the default),
// DIFF_SEED_START the first one; a failing seed replays alone with DIFF_SEED_START=<seed> DIFF_SEEDS=1.
const test = integrationTest({
  service: "test-support",
  dependencies: { authz: openfga({ model: new URL("../fixtures/authz.fga", import.meta.url) }) },
});

const COUNT = Number(process.env.DIFF_SEEDS ?? 500);
const START = Number(process.env.DIFF_SEED_START ?? 1000);
const CHUNK = 50;
const chunks = Array.from({ length: Math.ceil(COUNT / CHUNK) }, (_, i) => {
  const first = START + i * CHUNK;
  return { first, last: Math.min(first + CHUNK, START + COUNT) - 1 };
});

/** The in-memory OpenFGA behind the same HTTP API the real server has. */
function inMemoryApi(options: ConstructorParameters<typeof InMemoryOpenFga>[0] = {}): FgaApi {
  const server = new InMemoryOpenFga(options);
  return async (method, path, body) => {
    const answer = server.handle(
      method,
      path,
      new URLSearchParams(),
      body === undefined ? undefined : structuredClone(body),
    );
    return { status: answer.status, body: answer.body };
  };
}

const results: SeedResult[] = [];

describeInModes(["cluster"], "OpenFGA differential: in-memory vs a real server", () => {
  afterAll(() => {
    if (results.length === 0) return;
    const report = summarize(results.sort((a, b) => a.seed - b.seed));
    const dir = `${resolveArtifactsDir(process.env)}/test-support`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/openfga-differential-cluster.txt`, `${report}\n`);
    console.log(`[differential] ${report}`);
  });

  test.for(chunks)("seeds $first-$last: same answers", { timeout: 600_000 }, async ({ first, last }) => {
    const url = process.env.FGA_API_URL;
    if (!url) throw new Error("FGA_API_URL is not set; the cluster lane sets it (scripts/cluster-up.sh).");
    const real = httpApi(url, process.env.FGA_API_TOKEN || undefined);
    const double = inMemoryApi();
    const defaultStrategy = inMemoryApi({ defaultStrategyOnly: true });
    const cycleFirst = inMemoryApi({ cycleFirst: true });
    const seeds = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    const chunk: SeedResult[] = [];
    // Two seeds at a time: each already keeps several requests in flight.
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < seeds.length) {
          chunk.push(await runSeed(seeds[next++] as number, real, double, { defaultStrategy, cycleFirst }));
        }
      }),
    );
    results.push(...chunk);
    const contradictions = chunk.flatMap((r) => r.differences).filter((d) => d.verdict !== "double");
    for (const d of contradictions) {
      console.warn(
        `[differential] seed ${d.seed}: not the double's defect (${d.verdict}) on ${d.endpoint}: ${d.note ?? ""}`,
      );
    }
    const mismatches = chunk
      .flatMap((r) => r.differences)
      .filter((d) => d.verdict === "double")
      .map((d) => ({
        seed: d.seed,
        endpoint: d.endpoint,
        real: d.real,
        double: d.double,
        request: JSON.stringify(d.request),
      }));
    expect(
      mismatches,
      "the in-memory OpenFGA answered differently; replay with DIFF_SEED_START=<seed> DIFF_SEEDS=1",
    ).toEqual([]);
  });
});
