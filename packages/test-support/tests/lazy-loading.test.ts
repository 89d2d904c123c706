// A suite pays only for the dependency kinds it builds: importing @org/test-support and calling the
// builders loads no kind's libraries, and building a postgres + redis environment loads those two kinds'
// and no other's. Each case runs in a fresh Node process that records every package its imports resolve.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

/** Every library a dependency kind (or its double) uses. */
const KIND_LIBRARIES = [
  "@electric-sql/pglite",
  "pg",
  "pg-mem",
  "ioredis",
  "ioredis-mock",
  "@openfga/sdk",
  "@openfga/syntax-transformer",
  "axios",
  "@bufbuild/cel",
  "@bufbuild/protobuf",
  "@temporalio/client",
  "@temporalio/common",
  "msw",
];

const BUILDERS = `
const ts = await import("./src/index.ts");
const fixtures = new URL("./tests/fixtures/", ${JSON.stringify(new URL("..", import.meta.url).href)});
const db = ts.postgres({ migrations: new URL("migrations/", fixtures), urlEnv: "TEST_SUPPORT_DATABASE_URL" });
const cache = ts.redis({ urlEnv: "REDIS_URL" });
ts.postgres({ migrations: new URL("migrations/", fixtures), urlEnv: "TEST_SUPPORT_DATABASE_URL", engine: "pg-mem" });
ts.openfga({ model: new URL("authz.fga", fixtures) });
ts.temporal({ namespaceEnv: "TEMPORAL_NAMESPACE", addressEnv: "TEMPORAL_ADDRESS", taskQueue: "lazy" });
ts.http({ baseUrlEnv: "LAZY_UPSTREAM_URL" });
`;

/** The packages (by name) a script's ESM imports resolved, run in a fresh process in repo mode. */
function packagesResolvedBy(script: string): Set<string> {
  const dir = mkdtempSync(join(tmpdir(), "test-support-lazy-"));
  const record = join(dir, "imports.txt");
  try {
    const child = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "--import",
        "./tests/fixtures/lazy/record-imports.mjs",
        "--input-type=module",
        "-e",
        script,
      ],
      {
        cwd: packageDir,
        env: { ...process.env, INTEGRATION_MODE: "repo", RECORD_IMPORTS_TO: record },
        encoding: "utf8",
        timeout: 90_000,
      },
    );
    if (child.status !== 0) throw new Error(`probe failed (exit ${child.status}): ${child.stderr}`);
    const specifiers = readFileSync(record, "utf8").split("\n").filter(Boolean);
    return new Set(
      specifiers.map((s) =>
        s
          .split("/")
          .slice(0, s.startsWith("@") ? 2 : 1)
          .join("/"),
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("dependency kinds load their libraries only when a suite builds them", () => {
  it("importing the package and calling every builder loads no kind's libraries", () => {
    const loaded = packagesResolvedBy(BUILDERS);
    expect(loaded.has("ulid")).toBe(true); // the recorder works: the factory's own import is seen
    expect(KIND_LIBRARIES.filter((name) => loaded.has(name))).toEqual([]);
  }, 120_000);

  it("a postgres + redis environment loads PGlite and ioredis, and no other kind's libraries", () => {
    const loaded = packagesResolvedBy(`${BUILDERS}
const env = await ts.createIntegrationEnvironment({ service: "lazy", dependencies: { db, cache }, telemetry: { emit() {} } });
await env.clients.db.query("select 1");
await env.clients.cache.set("k", "v");
await env.close();
`);
    expect(loaded.has("@electric-sql/pglite")).toBe(true);
    expect(loaded.has("ioredis")).toBe(true);
    const others = [
      "pg-mem",
      "@openfga/sdk",
      "@openfga/syntax-transformer",
      "axios",
      "@bufbuild/cel",
      "@temporalio/client",
      "msw",
    ];
    expect(others.filter((name) => loaded.has(name))).toEqual([]);
  }, 120_000);
});
