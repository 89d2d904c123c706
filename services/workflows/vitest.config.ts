import { integrationModeFrom } from "@org/test-support";
import { defineConfig } from "vitest/config";

const artifacts = new URL("../../artifacts/workflows/", import.meta.url).pathname;

export default defineConfig({
  test: {
    projects: [
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
    reporters: ["default", "junit"],
    outputFile: { junit: `${artifacts}junit-${integrationModeFrom()}.xml` },
  },
});
