import { defineConfig } from "vitest/config";
import { integrationModeFrom } from "../../src/mode.js";
import { resolveArtifactsDir } from "../../src/telemetry.js";

// The pollution detector: its two generated files run at once, one per worker process.
const mode = integrationModeFrom();
export default defineConfig({
  test: {
    root: new URL("../..", import.meta.url).pathname,
    include: ["tests/pollution/*.test.ts"],
    pool: "forks",
    maxWorkers: 2,
    fileParallelism: true,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: [
      "default",
      [
        "junit",
        { suiteName: `test-support pollution-${mode}`, classnameTemplate: `pollution-${mode}:{filename}` },
      ],
    ],
    outputFile: { junit: `${resolveArtifactsDir({})}/test-support/junit-pollution-${mode}.xml` },
  },
});
