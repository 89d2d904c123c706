import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { caught, closedPort, memoryTelemetry, silentServer } from "../../tests/helpers.js";
import { createIntegrationEnvironment } from "../environment.js";
import { isTestSupportError } from "../errors.js";
import { redis } from "./redis.js";

const SECRET = "hunter2-do-not-print";

function openWith(url: string, connectTimeoutMs = 2000) {
  const telemetry = memoryTelemetry();
  const attempt = createIntegrationEnvironment({
    service: "svc",
    dependencies: { cache: redis({ urlEnv: "SVC_REDIS_URL" }) },
    env: { INTEGRATION_MODE: "cluster", SVC_REDIS_URL: url },
    connectTimeoutMs,
    telemetry,
  });
  return { attempt, telemetry };
}

describe("redis live (cluster mode) bad input", () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  beforeAll(async () => {
    silent = await silentServer();
  });
  afterAll(() => silent.close());

  it("needs an upper-case urlEnv", () => {
    expect(() => redis({ urlEnv: "redis" })).toThrow(/needs urlEnv/);
  });

  it("fails fast on an unreachable port, naming the dependency and the redacted target", async () => {
    const port = await closedPort();
    const { attempt, telemetry } = openWith(`redis://:${SECRET}@127.0.0.1:${port}/0`);
    const error = await caught(() => attempt);
    expect(isTestSupportError(error, "CONNECT_FAILED")).toBe(true);
    expect(error.message).toContain(`redis://:***@127.0.0.1:${port}/0`);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).not.toContain(SECRET);
    expect(JSON.stringify(telemetry.events)).not.toContain(SECRET);
  });

  it("gives up within the time bound on a server that never answers", async () => {
    const error = await caught(() => openWith(`redis://:${SECRET}@127.0.0.1:${silent.port}`, 300).attempt);
    expect(isTestSupportError(error, "CONNECT_TIMEOUT")).toBe(true);
    expect(error.message).toContain('"cache"');
    expect(error.message).toContain(`127.0.0.1:${silent.port}`);
    expect(error.message).not.toContain(SECRET);
  });

  it("rejects a URL that is not a redis URL, naming the variable", async () => {
    const error = await caught(() => openWith(`http://u:${SECRET}@127.0.0.1:6379`).attempt);
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error.message).toContain("SVC_REDIS_URL uses http://");
    expect(error.message).not.toContain(SECRET);
  });
});
