import { describe, expect, it } from "vitest";
import { caught, closedPort, memoryTelemetry } from "../../tests/helpers.js";
import { createIntegrationEnvironment } from "../environment.js";
import { isTestSupportError } from "../errors.js";
import { openfga } from "./openfga.js";

const model = new URL("../../tests/fixtures/authz.fga", import.meta.url);
const open = (env: Record<string, string>) =>
  createIntegrationEnvironment({
    service: "svc",
    dependencies: { authz: openfga({ model }) },
    env: { INTEGRATION_MODE: "cluster", ...env },
    // A refused connection fails at once; the bound only has to outlast a loaded machine's set-up.
    connectTimeoutMs: 20_000,
    telemetry: memoryTelemetry(),
  });

describe("openfga in cluster mode: bad input", () => {
  it("needs FGA_API_URL, named with the other missing variables", async () => {
    const error = await caught(() => open({}));
    expect(isTestSupportError(error, "MISSING_VARIABLES")).toBe(true);
    expect(error.message).toContain('FGA_API_URL (dependency "authz", openfga)');
  });

  it("rejects a URL that is not http(s)", async () => {
    const error = await caught(() => open({ FGA_API_URL: "grpc://127.0.0.1:8081" }));
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error.message).toContain("FGA_API_URL uses grpc:// but openfga needs http:// or https://");
  });

  it.each([
    ["http:/127.0.0.1:1", "http://127.0.0.1:1"],
    ["http:127.0.0.1:1", "http://127.0.0.1:1"],
    ["HTTP://127.0.0.1:1", "http://127.0.0.1:1"],
    ["http://127.0.0.1:1?tenant=a", "http://127.0.0.1:1"],
    ["http://127.0.0.1:1#top", "http://127.0.0.1:1"],
  ])(
    "refuses %s, a URL the SDK rejects with only 'FGA Error.', naming the variable and the fix",
    async (url, fix) => {
      const error = await caught(() => open({ FGA_API_URL: url }));
      expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
      expect(error.message).toContain(`FGA_API_URL (${url}) is not a URL the OpenFGA SDK accepts`);
      expect(error.message).toContain(`Set FGA_API_URL=${fix}.`);
    },
  );

  it("keeps the password of a URL the SDK rejects out of the message", async () => {
    const error = await caught(() => open({ FGA_API_URL: "http:/fga:s3cret-pw@127.0.0.1:1" }));
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error.message).not.toContain("s3cret-pw");
    expect(error.message).toContain("Set FGA_API_URL=http://fga:***@127.0.0.1:1.");
  });

  it("fails on an unreachable server with its name and target, and never prints the token", async () => {
    const port = await closedPort();
    const error = await caught(() =>
      open({ FGA_API_URL: `http://127.0.0.1:${port}`, FGA_API_TOKEN: "tok-secret-123" }),
    );
    expect(isTestSupportError(error, "CONNECT_FAILED")).toBe(true);
    expect(error.message).toContain(`openfga at http://127.0.0.1:${port}`);
    expect(error.message).toContain("could not create a store");
    expect(error.message).not.toContain("tok-secret-123");
  });
});
