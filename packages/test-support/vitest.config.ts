import { defineConfig } from "vitest/config";
import { integrationConfig } from "./src/vitest/config.js";

export default defineConfig(
  integrationConfig({
    service: "test-support",
    root: new URL(".", import.meta.url),
    unit: ["src/**/*.test.ts", "tests/conformance/**/*.test.ts", "tests/*.test.ts"],
  }),
);
