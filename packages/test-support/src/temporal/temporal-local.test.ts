import { expect, it } from "vitest";
import { caught, memoryTelemetry } from "../../tests/helpers.js";
import { createIntegrationEnvironment } from "../environment.js";
import { isTestSupportError } from "../errors.js";
import { temporal } from "./temporal.js";

it("local mode without a Temporal CLI says how to get one", async () => {
  const error = await caught(() =>
    createIntegrationEnvironment({
      service: "svc",
      dependencies: { workflows: temporal({ namespaceEnv: "NS", addressEnv: "ADDR", taskQueue: "q" }) },
      env: { INTEGRATION_MODE: "local", TEMPORAL_CLI_PATH: "/nonexistent/temporal" },
      telemetry: memoryTelemetry(),
    }),
  );
  expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
  expect(error.message).toContain("TEMPORAL_CLI_PATH");
  expect(error.message).toContain("/nonexistent/temporal does not exist");
  expect(error.message).toContain("scripts/temporal-server.sh ensure");
});
