import { expect, it } from "vitest";
import { caught, memoryTelemetry } from "../../tests/helpers.js";
import { createIntegrationEnvironment } from "../environment.js";
import { isTestSupportError } from "../errors.js";
import { temporal } from "./temporal.js";

it("local mode with a Temporal CLI variable naming no binary says so, and how to use the cache instead", async () => {
  const error = await caught(() =>
    createIntegrationEnvironment({
      service: "svc",
      dependencies: { workflows: temporal({ namespaceEnv: "NS", addressEnv: "ADDR", taskQueue: "q" }) },
      // A supervisor of this process's own, which reads the variable (LOCAL_ENGINES_VARIABLE is not set here).
      env: { ...process.env, INTEGRATION_MODE: "local", TEMPORAL_CLI_PATH: "/nonexistent/temporal" },
      telemetry: memoryTelemetry(),
    }),
  );
  expect(isTestSupportError(error, "CONNECT_FAILED")).toBe(true);
  expect(error.message).toContain("TEMPORAL_CLI_PATH=/nonexistent/temporal is not an executable file");
  expect(error.message).toContain("unset it to use the cache");
});
