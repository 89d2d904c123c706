import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { caught, closedPort, memoryTelemetry, silentServer } from "../../tests/helpers.js";
import { createIntegrationEnvironment } from "../environment.js";
import { isTestSupportError } from "../errors.js";
import { postgres } from "./postgres.js";

// Every case here fails before anything real is touched, so no server is needed.
const migrations = new URL("../../tests/fixtures/migrations/", import.meta.url);
const SECRET = "hunter2-do-not-print";

function openWith(url: string, connectTimeoutMs = 2000, allowNonTestDatabase = false) {
  const telemetry = memoryTelemetry();
  const attempt = createIntegrationEnvironment({
    service: "svc",
    dependencies: { db: postgres({ migrations, urlEnv: "SVC_DATABASE_URL", allowNonTestDatabase }) },
    env: { INTEGRATION_MODE: "cluster", SVC_DATABASE_URL: url },
    connectTimeoutMs,
    telemetry,
  });
  return { attempt, telemetry };
}

describe("postgres live (cluster mode) bad input", () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  beforeAll(async () => {
    silent = await silentServer();
  });
  afterAll(() => silent.close());

  it("refuses a database whose name does not look like a test database, before connecting", async () => {
    const port = await closedPort();
    const error = await caught(() => openWith(`postgres://app:${SECRET}@127.0.0.1:${port}/postgres`).attempt);
    expect(isTestSupportError(error, "UNSAFE_CLEANUP")).toBe(true);
    expect(error.message).toContain('refusing to run against database "postgres"');
    expect(error.message).toContain("allowNonTestDatabase: true");
    expect(error.message).toContain("SVC_DATABASE_URL");
    expect(error.message).not.toContain(SECRET);
  });

  it("fails fast on an unreachable port, naming the dependency and the redacted target", async () => {
    const port = await closedPort();
    const { attempt, telemetry } = openWith(`postgres://app:${SECRET}@127.0.0.1:${port}/app_test`);
    const error = await caught(() => attempt);
    expect(isTestSupportError(error, "CONNECT_FAILED")).toBe(true);
    expect(error.message).toContain(`postgres://app:***@127.0.0.1:${port}/app_test`);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).not.toContain(SECRET);
    expect(JSON.stringify(telemetry.events)).not.toContain(SECRET);
    expect(telemetry.events.map((e) => e.event)).toEqual(["environment.failed"]);
  });

  it("gives up within the time bound on a server that never answers", async () => {
    const error = await caught(
      () => openWith(`postgres://app:${SECRET}@127.0.0.1:${silent.port}/app_test`, 300).attempt,
    );
    expect(isTestSupportError(error, "CONNECT_TIMEOUT")).toBe(true);
    expect(error.message).toContain('"db"');
    expect(error.message).toContain(`127.0.0.1:${silent.port}`);
    expect(error.message).not.toContain(SECRET);
  });

  it.each(["latest_orders", "contest_prod", "testing"])(
    "refuses %s: the test-database rule matches a word of the name, not a substring",
    async (database) => {
      const port = await closedPort();
      const error = await caught(() => openWith(`postgres://app@127.0.0.1:${port}/${database}`).attempt);
      expect(isTestSupportError(error, "UNSAFE_CLEANUP")).toBe(true);
      expect(error.message).toContain(`refusing to run against database "${database}"`);
    },
  );

  it.each([
    ["options=-c%20search_path%3Dpublic", '"options"'],
    ["search_path=public", '"search_path"'],
    ["sslmode=disable&options=-csearch_path%3Dx", '"options"'],
  ])("refuses ?%s before connecting: no URL parameter may override the schema", async (query, named) => {
    const port = await closedPort();
    const { attempt, telemetry } = openWith(`postgres://app:${SECRET}@127.0.0.1:${port}/app_test?${query}`);
    const error = await caught(() => attempt);
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error.message).toContain(named);
    expect(error.message).toContain("SVC_DATABASE_URL");
    expect(error.message).toContain("override the schema");
    expect(error.message).not.toContain(SECRET);
    expect(JSON.stringify(telemetry.events)).not.toContain(SECRET);
  });

  it.each([
    ["Qz7@Kx", '"@"'],
    ["Qz7:Kx", '":"'],
    ["Qz7/Kx", '"/"'],
    ["Qz7#Kx", '"#"'],
    ["Qz7?Kx", '"?"'],
  ])(
    "refuses a password with an unencoded character (%s) before any network use, showing none of it",
    async (password, _character) => {
      const port = await closedPort();
      const { attempt, telemetry } = openWith(
        `postgres://svcuserq:${password}Vw9@127.0.0.1:${port}/app_test`,
      );
      const error = await caught(() => attempt);
      expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
      expect(error.message).toContain("does not parse unambiguously");
      expect(error.message).toContain("Percent-encode");
      for (const part of ["svcuserq", "Qz7", "Kx", "Vw9"]) {
        expect(error.message).not.toContain(part);
        expect(JSON.stringify(telemetry.events)).not.toContain(part);
      }
    },
  );

  it("rejects a URL that is not a postgres URL, naming the variable", async () => {
    const notUrl = await caught(() => openWith("localhost:5432").attempt);
    expect(notUrl.message).toContain("SVC_DATABASE_URL");
    const wrongScheme = await caught(() => openWith(`mysql://u:${SECRET}@127.0.0.1/app_test`).attempt);
    expect(wrongScheme.message).toContain("postgres needs postgres://");
    expect(wrongScheme.message).not.toContain(SECRET);
  });
});
