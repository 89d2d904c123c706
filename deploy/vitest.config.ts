import { defineConfig } from "vitest/config";

// JUnit beside every other package's, so CI's closing line counts these tests too.
export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 120_000,
    // The first run builds Helm from its Go module (minutes on 2 cores); later runs reuse the binary.
    hookTimeout: 1_500_000,
    reporters: ["default", ["junit", { suiteName: "deploy unit" }]],
    outputFile: { junit: "../artifacts/deploy/junit-unit.xml" },
  },
});
