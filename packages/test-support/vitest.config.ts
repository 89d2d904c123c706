import { defineConfig } from "vitest/config";
import { integrationModeFrom } from "./src/mode.js";

const artifacts = new URL("../../artifacts/test-support/", import.meta.url).pathname;

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["src/**/*.test.ts", "tests/conformance/**/*.test.ts"] },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
    // The unit script overrides this path; integration runs are filed under their mode.
    reporters: ["default", "junit"],
    outputFile: { junit: `${artifacts}junit-${integrationModeFrom()}.xml` },
  },
});
