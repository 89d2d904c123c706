import { describe, expect, it } from "vitest";
import { caught, closedPort, memoryTelemetry } from "../../tests/helpers.js";
import { createIntegrationEnvironment } from "../environment.js";
import { isTestSupportError } from "../errors.js";
import { temporal } from "./temporal.js";

const dependency = () =>
  temporal({ namespaceEnv: "SVC_TEMPORAL_NAMESPACE", addressEnv: "SVC_TEMPORAL_ADDRESS", taskQueue: "svc" });
const open = (env: Record<string, string>, connectTimeoutMs = 2000) =>
  createIntegrationEnvironment({
    service: "svc",
    dependencies: { workflows: dependency() },
    env: { INTEGRATION_MODE: "cluster", ...env },
    connectTimeoutMs,
    telemetry: memoryTelemetry(),
  });

describe("temporal in cluster mode: bad input", () => {
  it("lists a missing address and namespace together, before connecting", async () => {
    const error = await caught(() => open({}));
    expect(isTestSupportError(error, "MISSING_VARIABLES")).toBe(true);
    expect(error.message).toContain(
      'SVC_TEMPORAL_ADDRESS, SVC_TEMPORAL_NAMESPACE (dependency "workflows", temporal)',
    );
  });

  it("rejects an address that is not host:port", async () => {
    const error = await caught(() =>
      open({ SVC_TEMPORAL_ADDRESS: "http://temporal:7233", SVC_TEMPORAL_NAMESPACE: "ns" }),
    );
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error.message).toContain('SVC_TEMPORAL_ADDRESS="http://temporal:7233" is not host:port');
  });

  it("fails within the bound, naming the dependency, when nothing listens", async () => {
    const port = await closedPort();
    const error = await caught(() =>
      open({ SVC_TEMPORAL_ADDRESS: `127.0.0.1:${port}`, SVC_TEMPORAL_NAMESPACE: "ns" }, 1500),
    );
    expect(isTestSupportError(error, "CONNECT_TIMEOUT")).toBe(true);
    expect(error.message).toContain('dependency "workflows" (temporal) did not answer within 1500 ms');
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });
});

describe("temporal() options", () => {
  it("needs variable names and a task queue", () => {
    expect(() => temporal({ namespaceEnv: "ns", addressEnv: "A", taskQueue: "q" })).toThrow(/namespaceEnv/);
    expect(() => temporal({ namespaceEnv: "NS", addressEnv: "A", taskQueue: "" })).toThrow(
      /needs a taskQueue/,
    );
  });
});
