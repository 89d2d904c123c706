import { describe, expect, it } from "vitest";
import { caught, memoryTelemetry } from "../../tests/helpers.js";
import { createIntegrationEnvironment } from "../environment.js";
import { isTestSupportError } from "../errors.js";
import { postgres } from "./postgres.js";
import { looksLikeTestDatabase } from "./safety.js";

const fixtures = new URL("../../tests/fixtures/", import.meta.url);

describe("postgres() options", () => {
  it("needs a migrations folder and an upper-case urlEnv", () => {
    // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input.
    expect(() => postgres({ urlEnv: "DB_URL" } as any)).toThrow(/needs a migrations folder/);
    expect(() => postgres({ migrations: fixtures, urlEnv: "db_url" })).toThrow(/needs urlEnv.*"db_url"/);
  });

  it("declares its variable for cluster mode", () => {
    expect(postgres({ migrations: fixtures, urlEnv: "APP_DATABASE_URL" }).variables).toEqual([
      "APP_DATABASE_URL",
    ]);
  });
});

describe("looksLikeTestDatabase", () => {
  it.each([
    ["test", true],
    ["app_test", true],
    ["TestDb", true],
    ["postgres", false],
    ["app", false],
    ["production", false],
  ])("%s -> %s", (name, expected) => {
    expect(looksLikeTestDatabase(name)).toBe(expected);
  });
});

describe("postgres double (repo mode)", () => {
  const open = (migrations: URL) =>
    createIntegrationEnvironment({
      service: "svc",
      dependencies: { db: postgres({ migrations, urlEnv: "DB_URL" }) },
      env: { INTEGRATION_MODE: "repo" },
      telemetry: memoryTelemetry(),
    });

  it("names the migration that failed", async () => {
    const error = await caught(() => open(new URL("bad-migrations/", fixtures)));
    expect(isTestSupportError(error, "MIGRATION_FAILED")).toBe(true);
    expect(error.message).toContain("migration 002_broken.sql failed on pg-mem");
  });

  it("says when the migrations folder does not exist", async () => {
    const error = await caught(() => open(new URL("no-such-folder/", fixtures)));
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error.message).toMatch(/migrations folder .*no-such-folder.* does not exist/);
  });
});

describe("postgres double error codes", () => {
  it("reports PostgreSQL's SQLSTATE for constraint and name errors, through the pool and a client", async () => {
    const env = await createIntegrationEnvironment({
      service: "svc",
      dependencies: { db: postgres({ migrations: new URL("migrations/", fixtures), urlEnv: "DB_URL" }) },
      env: { INTEGRATION_MODE: "repo" },
      telemetry: memoryTelemetry(),
    });
    const db = env.clients.db;
    await expect(db.query("insert into accounts (email) values (null)")).rejects.toMatchObject({
      code: "23502",
    });
    await expect(db.query("insert into notes (account_id, body) values (42, 'x')")).rejects.toMatchObject({
      code: "23503",
    });
    await expect(db.query("select * from no_such_table")).rejects.toMatchObject({ code: "42P01" });
    await expect(db.query("select no_such_column from accounts")).rejects.toMatchObject({ code: "42703" });
    const client = await db.connect();
    await expect(client.query("insert into accounts (email) values (null)")).rejects.toMatchObject({
      code: "23502",
    });
    const viaCallback = await new Promise<unknown>((resolve) => {
      client.query("select * from no_such_table", (error: unknown) => resolve(error));
    });
    expect(viaCallback).toMatchObject({ code: "42P01" });
    client.release();
    await env.close();
  });
});
