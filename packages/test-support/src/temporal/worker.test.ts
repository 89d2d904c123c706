import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { bundleWorkflows, temporalBundleCacheDir } from "./worker.js";

describe("the workflow bundle cache", () => {
  it("lives in a named folder of the checkout, or INTEGRATION_CACHE_DIR, never loose in the temp folder", () => {
    expect(temporalBundleCacheDir({})).toBe(
      join(process.cwd(), "node_modules", ".cache", "org-integration", "temporal-bundles"),
    );
    expect(temporalBundleCacheDir({ INTEGRATION_CACHE_DIR: "/var/cache/it" })).toBe(
      "/var/cache/it/temporal-bundles",
    );
  });

  // Bundling runs webpack over the fixture workflows: a process-level cost, beyond a unit test's 5 s.
  it("keeps only the newest bundles when it writes one", { timeout: 120_000 }, async () => {
    const root = mkdtempSync(join(tmpdir(), "bundle-cache-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    vi.stubEnv("INTEGRATION_CACHE_DIR", root);
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    const dir = join(root, "temporal-bundles");
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 12; i++) {
      const file = join(dir, `old-${i}.js`);
      writeFileSync(file, "// an older bundle");
      utimesSync(file, new Date(2020, 0, 1 + i), new Date(2020, 0, 1 + i));
    }
    const bundle = await bundleWorkflows(
      new URL("../../tests/fixtures/temporal/workflows.ts", import.meta.url),
    );
    expect(bundle.reused).toBe(false);
    const kept = readdirSync(dir).sort();
    expect(kept).toHaveLength(8);
    // The new bundle and the seven newest old ones survive.
    expect(kept.filter((name) => name.startsWith("old-"))).toEqual(
      ["old-10.js", "old-11.js", "old-5.js", "old-6.js", "old-7.js", "old-8.js", "old-9.js"].sort(),
    );
  });
});
